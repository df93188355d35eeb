"""`pairzoo export --ensemble`: the whole ensemble as one ONNX file, gated on parity with Python.

Its members run separately or, where that measures faster here, fused by shape into grouped
convolutions (pairzoo.ensemble.fuse; `--fuse auto|always|never`); a fused file that fails the
gate under auto is replaced by the separate one, and the metadata says so.

The Python path is the one `pairzoo predict --ensemble` takes: one onnxruntime session per
member, then the LightGBM booster. The single file, in one session, at batch sizes 1, 7, 512,
1024 and 300 in a row and then over all of val, must give identical labels and probabilities
within 1e-5, else nothing is written (pairzoo.ensemble.merged_parity). The file is gated in the
onnxruntime session options measured fastest for it on this CPU (pairzoo.runtime.choice,
candidates pairzoo.runtime.runtimes.FILE_RUNTIMES), and the options are written into it
(metadata ``pairzoo_runtime``) so whoever opens it can use them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.atomic import write_bytes
from pairzoo.ensemble.members import LoadedEnsemble, load_ensemble
from pairzoo.ensemble.merged_parity import Parity, gate_merged
from pairzoo.ensemble.onnx_merge import merge_ensemble
from pairzoo.ensemble.settings import ExportSettings
from pairzoo.ensemble.stacking import predict_booster
from pairzoo.errors import ExportError, PairzooError
from pairzoo.registry import Registry
from pairzoo.registry.card import Card
from pairzoo.runtime.batches import split_batch
from pairzoo.runtime.choice import choose_runtime
from pairzoo.runtime.logits import logit_matrix
from pairzoo.runtime.runtimes import BASELINE, FILE_RUNTIMES

__all__ = ["EnsembleExport", "ExportSettings", "build_onnx", "export_ensemble"]


@dataclass
class EnsembleExport:
    path: Path
    ref: str
    parity: Parity
    bytes: int
    runtime: dict  # the session options the file was measured fastest with (runtime.choice)
    layout: dict  # members separate or fused, and why (choose_layout)


def default_path(card: Card, export_dir: str | Path = "export") -> Path:
    return Path(export_dir) / f"{card.name}-{card.version}.onnx"


def build_onnx(registry: Registry, loaded: LoadedEnsemble, fuse: bool = False) -> Any:
    """The merged ModelProto, from the members' hash-checked ONNX bytes."""
    return _merged(loaded, _member_bytes(registry, loaded), fuse)


def _member_bytes(registry: Registry, loaded: LoadedEnsemble) -> list[bytes]:
    return [registry.read_file(m.card, m.card.onnx) for m in loaded.members]


def _merged(loaded: LoadedEnsemble, blobs: list[bytes], fuse: bool) -> Any:
    """The merged ModelProto of `blobs` (parsed afresh: merging rewrites its members' opsets)."""
    import onnx

    protos = [onnx.load_from_string(b) for b in blobs]
    model = merge_ensemble(protos, loaded.booster, fuse=fuse)
    ref = loaded.card.ref
    onnx.helper.set_model_props(
        model,
        {
            "pairzoo_ensemble": ref,
            "pairzoo_members": ",".join(f"{m.ref}:{m.sha256}" for m in loaded.members),
            "outputs": "probability: float32 (N,) of label 1; label: int64 (N,)",
        },
    )
    return model


def choose_layout(
    registry: Registry, loaded: LoadedEnsemble, mode: str, feeds: dict
) -> list[tuple[Any, dict]]:
    """The layouts to gate, best first, each (ModelProto, layout record): members separate or
    fused (pairzoo.ensemble.fuse), `mode` auto (the faster here, measured side by side; where
    fused wins, separate after it in case fused fails the gate), always or never (that one
    alone). Fusing needs members of one shape with operators to stack (convolutions); without
    them the members stay separate."""
    import onnx

    from pairzoo.ensemble.fuse import groups_of, stacked_operators
    from pairzoo.runtime.sessions import open_session
    from pairzoo.runtime.timing import measure

    blobs = _member_bytes(registry, loaded)
    protos = [onnx.load_from_string(b) for b in blobs]
    sizes = sorted((len(g) for g in groups_of(protos)), reverse=True)
    record = {"mode": mode, "groups": sizes}
    if mode == "never" or sizes[0] < 2 or stacked_operators(protos) == 0:
        return [(_merged(loaded, blobs, False), {**record, "members": "separate"})]
    fused = _merged(loaded, blobs, True)
    if mode == "always":
        return [(fused, {**record, "members": "fused"})]
    separate = _merged(loaded, blobs, False)
    speeds = measure({"separate": open_session(separate), "fused": open_session(fused)}, feeds)
    record["pairs_per_s"] = {k: round(v, 1) for k, v in speeds.items()}
    layouts = [
        (fused, {**record, "members": "fused"}),
        (separate, {**record, "members": "separate"}),
    ]
    return layouts if speeds["fused"] > speeds["separate"] else layouts[1:]


def export_ensemble(
    registry: Registry, settings: ExportSettings, x_val: np.ndarray
) -> EnsembleExport:
    """Merge, pick its session options (`settings.runtime`: auto or a name of FILE_RUNTIMES),
    gate the file on val in them (pairzoo.ensemble.merged_parity), write it atomically if it
    passes."""
    s = settings
    batch_size, threads = s.batch_size, s.threads
    loaded = load_ensemble(registry, s.ref, threads, s.int8)
    full = loaded.card.ref
    feeds = dict(zip(("xa", "xb"), split_batch(x_val[:batch_size]), strict=True))
    reference = predict_booster(
        loaded.booster, logit_matrix(loaded.members, x_val, batch_size).logits, threads
    )
    what = f"{full} as one file"
    failed: dict[str, str] = {}  # a layout that failed the gate, and how, when another is tried
    for model, layout in choose_layout(registry, loaded, s.fuse, feeds):
        choice, parity = _gated(model.SerializeToString(), s, feeds, what, x_val, reference)
        if parity.ok:
            break
        failed = {f"{layout['members']}_failed": parity.describe()}
    if not parity.ok:
        raise ExportError(
            f"{full}: single-file ONNX differs from the Python path on {parity.describe()}; nothing written"
        )
    layout = {**layout, **failed}
    data = _with_runtime(model, {**choice.to_dict(), "layout": layout}).SerializeToString()
    path = Path(s.out) if s.out is not None else default_path(loaded.card)
    write_bytes(path, data)
    return EnsembleExport(
        path=path,
        ref=full,
        parity=parity,
        bytes=len(data),
        runtime=choice.to_dict(),
        layout=layout,
    )


def _gated(data: bytes, s: ExportSettings, feeds: dict, what: str, x_val, reference) -> tuple:
    """(runtime choice, parity) of the file `data` in the session options picked for it."""
    try:
        choice, session = choose_runtime(data, FILE_RUNTIMES, s.runtime, feeds=feeds, what=what)
    except PairzooError:
        raise
    except Exception:  # onnxruntime's untyped errors: the gate meets them again, names them
        forced = BASELINE if s.runtime == "auto" else s.runtime
        choice, session = choose_runtime(data, FILE_RUNTIMES, forced, what=what)
    return choice, gate_merged(session, x_val, reference, s.tolerance, s.batch_size)


def _with_runtime(model: Any, choice: dict) -> Any:
    """`model` with the chosen session options in its metadata (set_model_props replaces all)."""
    import onnx

    props = {p.key: p.value for p in model.metadata_props}
    record = {k: choice[k] for k in ("chosen", "options", "pairs_per_s", "layout")}
    onnx.helper.set_model_props(model, {**props, "pairzoo_runtime": json.dumps(record)})
    return model
