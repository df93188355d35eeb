"""`pairzoo estimate` as a library call, and its table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pairzoo.data.format import read_unlabelled
from pairzoo.estimate.entry import entry_calibration, estimate_pairs, open_entry
from pairzoo.estimate.shifts import DEFAULT_PAIRS
from pairzoo.registry import Registry


@dataclass(frozen=True)
class EstimateSettings:
    files: Sequence[str | Path]  # pair files (.npz, keys x and id); their labels are never read
    ensemble: str | None = None  # an ensemble entry, or None with `model`
    model: str | None = None  # one registry model, NAME[@VERSION]
    labelled_dir: str | Path | None = None  # calibration's data dir, when the card has none
    pairs: int = DEFAULT_PAIRS  # generated pairs per calibration set, when the card has none
    threads: int = 1
    int8: str = "auto"


def estimate_files(registry: Registry, settings: EstimateSettings) -> dict[str, Any]:
    """Estimates for every pair file in `settings.files`, by the entry and (an ensemble) each
    member."""
    s = settings
    splits = [read_unlabelled(path) for path in s.files]  # every file checked before the work
    runner = open_entry(registry, s.ensemble, s.model, s.threads, s.int8)
    calibration = entry_calibration(runner, s.labelled_dir, s.pairs)
    return {
        "entry": runner.card.ref,
        "kind": runner.card.kind,
        "calibration": "from the card" if calibration.from_card else "made now",
        "generator": calibration.record["generator"],
        "files": [
            {"file": str(split.path), "pairs": len(split),
             "estimates": estimate_pairs(runner, calibration, split.x)}
            for split in splits
        ],
    }  # fmt: skip


def format_estimates(result: dict[str, Any]) -> str:
    gen = result["generator"]
    lines = []
    for f in result["files"]:
        lines.append(f"{Path(f['file']).name} ({f['pairs']} pairs), {result['kind']} "
                     f"{result['entry']}:")  # fmt: skip
        lines.append("| predictor | estimated accuracy | interval | method |")
        lines.append("| --- | --- | --- | --- |")
        for row in f["estimates"]:
            lines.append(
                f"| {row['predictor']} | {100 * row['accuracy']:.2f}% | "
                f"{100 * row['low']:.2f}-{100 * row['high']:.2f}% | {row['method']} |"
            )
    shifts = ", ".join(s["name"] for s in gen["shifts"])
    lines.append(
        f"calibrated ({result['calibration']}) on {len(gen['shifts'])} generated sets of "
        f"{gen['pairs']} labelled pairs ({shifts}; seed {gen['seed']}; {gen['digits']}); "
        "method chosen by its largest error on the set held out"
    )
    return "\n".join(lines)
