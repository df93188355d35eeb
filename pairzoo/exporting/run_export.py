"""Export a finished run to the registry: ONNX, checker, parity gate, card, entry."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from pairzoo.atomic import is_stale, owner_tag
from pairzoo.data.format import load_data_dir
from pairzoo.data.tensors import split_pairs_np
from pairzoo.errors import DataError, ExportError, PairzooError
from pairzoo.exporting.model_card import ONNX_NAME, build_card, data_section
from pairzoo.exporting.onnx_export import check_onnx, export_onnx
from pairzoo.exporting.parity import parity_line, refusal, run_parity
from pairzoo.registry import Registry
from pairzoo.registry.card import Card, check_name, sha256_file
from pairzoo.train.config import config_hash
from pairzoo.train.rundir import load_run


def export_run(
    run_dir: str | Path,
    registry: Registry | str | Path | None = None,
    name: str | None = None,
    data_dir: str | Path | None = None,
) -> Card:
    """Export `run_dir` and register it as the next version of `name`; returns the card.

    `name` defaults to the run's config name, else the directory name; `data_dir` (for the
    parity gate's validation pairs) defaults to the run config's "data". Raises RunError for an
    unusable run, DataError for missing validation data, ExportError for a failed export or
    parity gate (nothing is registered then), RegistryError for registry trouble.
    """
    start = time.perf_counter()
    registry = registry if isinstance(registry, Registry) else Registry(registry)
    registry.check_catalogue()
    run_dir = Path(run_dir)
    loaded = load_run(run_dir)
    name = check_name(name or loaded.config.get("name") or run_dir.resolve().name)
    val_dir = _val_dir(loaded.config, data_dir, run_dir)
    xa, xb = _val_pairs(val_dir)
    timings = {"load_s": time.perf_counter() - start}
    with _scratch_dir() as tmp:
        onnx_path = Path(tmp) / ONNX_NAME
        t = time.perf_counter()
        exported = export_onnx(loaded.model, onnx_path)
        facts = check_onnx(onnx_path)
        timings["export_s"] = time.perf_counter() - t
        t = time.perf_counter()
        parity = run_parity(loaded.model, onnx_path, xa, xb)
        timings["parity_s"] = time.perf_counter() - t
        if not parity["passed"]:
            cause, figures = refusal(parity)
            raise ExportError(
                f"{run_dir}: parity gate failed, nothing was registered: {cause}\n  {figures}"
            )
        timings["total_s"] = time.perf_counter() - start
        card = build_card(
            loaded=loaded,
            onnx_info={**exported, **facts, "sha256": sha256_file(onnx_path)},
            parity=parity,
            data=data_section(loaded.config, val_dir, len(xa)),
            source={
                "run_dir": str(run_dir.resolve()),
                "config_hash": config_hash(loaded.config),
                "model_pt_sha256": sha256_file(run_dir / "model.pt"),
                "best_epoch": loaded.metrics.get("best_epoch"),
                "train_time_s": loaded.metrics.get("train_time_s"),
            },
            timings={k: round(v, 3) for k, v in timings.items()},
        )
        return registry.add_entry(name, "model", {ONNX_NAME: onnx_path}, card)


_SCRATCH = "pairzoo-export-pz-"
_STALE_SCRATCH = re.compile(rf"^{_SCRATCH}(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-[A-Za-z0-9_]+$")


def _scratch_dir() -> tempfile.TemporaryDirectory:
    """A temp dir for the ONNX file, after deleting those of exports that were killed."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(tempfile.gettempdir()):
            if entry.name.startswith(_SCRATCH) and is_stale(entry.name, _STALE_SCRATCH):
                shutil.rmtree(entry.path, ignore_errors=True)
    return tempfile.TemporaryDirectory(prefix=f"{_SCRATCH}{owner_tag()}-")


def _val_dir(config: dict[str, Any], data_dir, run_dir: Path) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    configured = config.get("data")
    if not configured or not Path(configured).is_dir():
        raise DataError(
            f"{run_dir}: validation data '{configured}' (config key 'data') is not a directory "
            "here; pass the data directory with --data DIR"
        )
    return Path(configured)


def _val_pairs(data_dir: Path):
    split = load_data_dir(data_dir, "val")
    if len(split.x) == 0:
        raise DataError(f"{data_dir}: the val split is empty; the parity gate needs pairs")
    return split_pairs_np(split.x)


def run_key(run_dir: Path) -> tuple[str, str]:
    """(config hash, sha256 of model.pt): what tells a run already in the registry."""
    try:
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"{run_dir / 'config.json'}: cannot read it ({exc})") from None
    if not (run_dir / "model.pt").is_file():
        raise ExportError(f"{run_dir / 'model.pt'}: file is missing")
    return config_hash(config), sha256_file(run_dir / "model.pt")


def export_all(
    runs_dir: str | Path,
    registry: Registry | str | Path | None = None,
    data_dir: str | Path | None = None,
    on_result=None,
) -> list[dict[str, Any]]:
    """Export every finished run under `runs_dir` that the registry does not hold yet.

    A run is held when a model card records the same config hash and model.pt sha256.
    Returns one {run, status: exported|skipped|failed, ref|reason} per run directory and calls
    `on_result` with each as it is known.
    """
    registry = registry if isinstance(registry, Registry) else Registry(registry)
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise ExportError(f"runs directory '{runs_dir}' does not exist")
    # fp32 exports only: an int8 variant keeps its source's "source" but is not that export
    held = {_card_key(c): c for c in registry.list(kind="model") if "quantization" not in c}
    results = []
    for run in sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        result = _export_one(run, registry, data_dir, held)
        results.append(result)
        if on_result:
            on_result(result)
    return results


def _export_one(run: Path, registry: Registry, data_dir, held: dict) -> dict[str, Any]:
    result: dict[str, Any] = {"run": str(run)}
    try:
        metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
        if not metrics.get("finished"):
            return {**result, "status": "skipped", "reason": "run not finished"}
    except (OSError, ValueError):
        return {**result, "status": "skipped", "reason": "no readable metrics.json (not a run?)"}
    try:
        key = run_key(run)
        if key in held:
            card = held[key]
            return {
                **result,
                "status": "skipped",
                "reason": f"already registered as {card.ref}",
            }
        card = export_run(run, registry, data_dir=data_dir)
    except PairzooError as exc:
        return {**result, "status": "failed", "reason": str(exc)}
    held[key] = card
    return {
        **result,
        "status": "exported",
        "ref": card.ref,
        "parity": parity_line(card.section("parity")),
    }


def _card_key(card: Card) -> tuple[str | None, str | None]:
    source = card.section("source")
    return source.get("config_hash"), source.get("model_pt_sha256")
