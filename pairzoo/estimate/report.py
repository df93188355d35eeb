"""`pairzoo estimate` as a library call, and its table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pairzoo.estimate.shifts import DEFAULT_PAIRS


def estimate_files(registry, files: list, ensemble: str | None = None, model: str | None = None,
                   labelled_dir=None, pairs: int = DEFAULT_PAIRS, threads: int = 1,
                   int8: str = "auto") -> dict[str, Any]:  # fmt: skip
    """Estimates for every pair file in `files`, by the entry and (an ensemble) each member."""
    from pairzoo.data.format import read_unlabelled
    from pairzoo.estimate.entry import entry_calibration, estimate_pairs, open_entry

    splits = [read_unlabelled(path) for path in files]  # every file checked before the work
    runner = open_entry(registry, ensemble, model, threads, int8)
    calibration = entry_calibration(runner, labelled_dir, pairs)
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
