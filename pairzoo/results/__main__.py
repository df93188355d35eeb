"""`python -m pairzoo.results save KIND FILE [--command CMD]` | `render [--check]`.

`save` files a JSON file a program wrote (such as `runs/summary.json`) as a record of KIND;
`render` rewrites the results blocks of README.md and docs/*.md from the newest records, and
with `--check` only lists the pages that differ (exit 1 if any).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pairzoo.errors import DataError
from pairzoo.results.pages import pages, stale_pages, write_pages
from pairzoo.results.records import current_commit, newest_record, save_record
from pairzoo.results.run_record import run_record
from pairzoo.results.tables import TABLES, record_kind, render

REPO = Path(__file__).resolve().parents[2]


def block_for(root: Path):
    return lambda kind: render(kind, newest_record(root, record_kind(kind)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pairzoo.results")
    parser.add_argument("--repo", type=Path, default=REPO, help="repository root (pages, results/)")
    sub = parser.add_subparsers(dest="action", required=True)
    save = sub.add_parser("save", help="file a program's JSON output as a record")
    save.add_argument("kind", choices=sorted(TABLES))
    save.add_argument("file", type=Path, help="the JSON file; for kind run, the run directory")
    save.add_argument("--command", default=None, help="the command that made FILE")
    check = sub.add_parser("render", help="rewrite the results blocks of the pages")
    check.add_argument("--check", action="store_true", help="only list stale pages; exit 1 if any")
    args = parser.parse_args(argv)
    root = args.repo / "results"
    if args.action == "save":
        try:
            data = _program_output(args.kind, args.file)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, DataError) as e:
            print(f"error: {args.file}: not a readable JSON file ({e})", file=sys.stderr)
            return 1
        command = args.command or f"make {args.kind}"
        print(save_record(root, args.kind, data, command, current_commit(args.repo)))
        return 0
    paths = [p for p in pages(args.repo) if p.exists()]
    if args.check:
        stale = stale_pages(paths, block_for(root))
        for p in stale:
            print(f"{p}: results blocks differ from results/ (run `make docs`)")
        return 1 if stale else 0
    for p in write_pages(paths, block_for(root)):
        print(f"rewrote {p}")
    return 0


def _program_output(kind: str, path: Path):
    """The JSON a program wrote; for kind `run`, a training run's directory."""
    if kind == "run":
        return run_record(path)
    return json.loads(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    sys.exit(main())
