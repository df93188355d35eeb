"""`registry verify`: recompute every hash and account for every file under the registry root."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pairzoo.errors import RegistryError
from pairzoo.registry import index
from pairzoo.registry.card import (
    CARD_FILE,
    check_arcname,
    check_name,
    format_ref,
    read_card,
    sha256_file,
)
from pairzoo.registry.store import STAGING_DIR
from pairzoo.runtime.safety import check_self_contained

_ROOT_FILES = {index.CATALOGUE_FILE, index.LOCK_FILE, "README.md"}


@dataclass
class Problem:
    # catalogue, entry-missing, card-missing, card-tampered, missing, tampered, unsafe (an ONNX
    # file that is not self-contained), orphaned, unfinished
    kind: str
    path: str
    detail: str


@dataclass
class VerifyReport:
    root: str
    entries_checked: int = 0
    files_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def verify(root: Path) -> VerifyReport:
    if not root.is_dir():
        raise RegistryError(f"registry directory '{root}' does not exist")
    report = VerifyReport(root=str(root))
    try:
        rows = index.read(root)["entries"]
        trusted = True
    except index.CorruptCatalogue as exc:
        rows, trusted = _rows_on_disk(root), False
        report.problems.append(
            Problem(
                "catalogue",
                str(exc.path),
                f"catalogue is corrupted: {exc.why}. Nothing was changed; {len(rows)} entry "
                "directories were found on disk and their files checked against their own "
                "card.json (card hashes cannot be checked without the catalogue). Restore "
                f"{index.CATALOGUE_FILE} from a backup; until then exports into this registry "
                "are refused",
            )
        )
    entry_dirs = set()
    for row in rows:
        entry_dirs.add(root / row["dir"])
        _check_entry(root, row, trusted, report)
    _find_orphans(root, entry_dirs, report)
    return report


def _rows_on_disk(root: Path) -> list[dict[str, Any]]:
    rows = []
    for card_path in sorted(root.glob(f"*/*/{CARD_FILE}")):
        entry = card_path.parent
        if entry.name.isdigit() and not entry.parent.name.startswith("."):
            rows.append(
                {
                    "name": entry.parent.name,
                    "version": int(entry.name),
                    "dir": f"{entry.parent.name}/{entry.name}",
                    "card_sha256": None,
                }
            )
    return rows


def _check_entry(root: Path, row: dict[str, Any], trusted: bool, report: VerifyReport) -> None:
    ref = format_ref(row["name"], row["version"])
    report.entries_checked += 1
    try:
        check_name(row["name"])
    except RegistryError as exc:
        report.problems.append(
            Problem("catalogue", str(root / index.CATALOGUE_FILE), f"{ref}: {exc}")
        )
        return
    entry = root / row["dir"]
    if not entry.is_dir():
        report.problems.append(
            Problem("entry-missing", str(entry), f"{ref}: entry directory is missing")
        )
        return
    try:
        card, card_sha = read_card(entry / CARD_FILE)
    except RegistryError as exc:
        kind = "card-missing" if not (entry / CARD_FILE).exists() else "card-tampered"
        report.problems.append(Problem(kind, str(entry / CARD_FILE), str(exc)))
        return
    if trusted and card_sha != row["card_sha256"]:
        report.problems.append(
            Problem(
                "card-tampered",
                str(entry / CARD_FILE),
                f"{ref}: card sha256 {card_sha[:12]}… differs from the catalogue's "
                f"{row['card_sha256'][:12]}…",
            )
        )
    files = card.files
    for arcname, info in sorted(files.items()):
        try:
            check_arcname(arcname)
        except RegistryError as exc:
            report.problems.append(
                Problem("card-tampered", str(entry / CARD_FILE), f"{ref}: {exc}")
            )
            continue
        _check_file(entry / arcname, ref, info, report)
        if arcname == card.onnx and (entry / arcname).is_file():
            _check_self_contained(entry / arcname, ref, report)
    expected = {entry / CARD_FILE} | {entry / a for a in files}
    for path in sorted(p for p in entry.rglob("*") if p.is_file()):
        if path not in expected:
            report.problems.append(
                Problem("orphaned", str(path), f"{ref}: file is not listed in the card")
            )


def _check_file(path: Path, ref: str, info: Any, report: VerifyReport) -> None:
    if not path.is_file():
        report.problems.append(
            Problem("missing", str(path), f"{ref}: file listed in the card is missing")
        )
        return
    report.files_checked += 1
    want = info.get("sha256") if isinstance(info, dict) else None
    got = sha256_file(path)
    if got != want:
        size = path.stat().st_size
        report.problems.append(
            Problem(
                "tampered",
                str(path),
                f"{ref}: sha256 {got[:12]}… ({size} bytes) differs from the card's "
                f"{str(want)[:12]}… ({info.get('bytes') if isinstance(info, dict) else '?'} bytes)",
            )
        )


def _check_self_contained(path: Path, ref: str, report: VerifyReport) -> None:
    try:
        check_self_contained(path.read_bytes(), ref)
    except RegistryError as exc:
        report.problems.append(Problem("unsafe", str(path), str(exc)))


def _find_orphans(root: Path, entry_dirs: set[Path], report: VerifyReport) -> None:
    for top in sorted(root.iterdir()):
        if top.name in _ROOT_FILES and top.is_file():
            continue
        if top.name == STAGING_DIR and top.is_dir():
            for leftover in sorted(top.iterdir()):
                report.problems.append(
                    Problem(
                        "unfinished",
                        str(leftover),
                        "staged entry or removal that never completed (a write in progress, or a "
                        "crash); safe to delete when no pairzoo process is writing",
                    )
                )
            continue
        if not top.is_dir():
            report.problems.append(Problem("orphaned", str(top), "file is not part of any entry"))
            continue
        for child in sorted(top.iterdir()):
            if child in entry_dirs:
                continue
            count = sum(1 for p in child.rglob("*") if p.is_file()) if child.is_dir() else 1
            report.problems.append(
                Problem(
                    "orphaned",
                    str(child),
                    f"not an entry in the catalogue ({count} file(s)); a removed or unregistered "
                    "entry, or one whose registration was interrupted",
                )
            )
