"""`pairzoo export --ensemble`: the whole ensemble as one ONNX file, gated against Python.

Its members run separately or fused by shape into grouped convolutions (pairzoo.ensemble.fuse;
`--fuse auto|always|never`); its LightGBM meta-learner is onnxmltools' ai.onnx.ml trees or plain
operators that OpenVINO reads too (pairzoo.ensemble.tree_ops; `--trees`, `tree_forms`). Each
layout is opened in the runtime measured fastest for it on this CPU (pairzoo.runtime.choice,
candidates pairzoo.runtime.runtimes.FILE_RUNTIMES: onnxruntime's session options, OpenVINO in
fp32 and bf16), the picks are timed again side by side, and the faster goes first to the gate.

The Python path is the one `pairzoo predict --ensemble` takes: one onnxruntime session per
member, then the LightGBM booster. Members separate in an fp32 runtime must give its labels and
probabilities within 1e-5, at batch sizes 1, 7, 512, 1024 and 300 in a row in one session and
over all of val (pairzoo.ensemble.merged_parity). A file whose arithmetic differs (bf16, int8
members outside onnxruntime, or
fused members summing in another order) is held to its decisions instead
(pairzoo.ensemble.decision_gate). A layout that fails is replaced by the next, and the metadata
says so; if none passes, nothing is written. The runtime, its options and the layout are written
into the file (metadata ``pairzoo_runtime``) so whoever opens it can use them.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.atomic import write_bytes
from pairzoo.ensemble.decision_gate import Decisions, Judge
from pairzoo.ensemble.members import LoadedEnsemble, load_ensemble
from pairzoo.ensemble.merged_parity import Parity, gate_merged
from pairzoo.ensemble.onnx_merge import TREES, merge_ensemble
from pairzoo.ensemble.settings import ExportSettings
from pairzoo.ensemble.stacking import predict_booster
from pairzoo.errors import ExportError, PairzooError
from pairzoo.registry import Registry
from pairzoo.registry.card import Card
from pairzoo.runtime.batches import split_batch
from pairzoo.runtime.choice import choose_runtime, held_to_decisions
from pairzoo.runtime.logits import logit_matrix
from pairzoo.runtime.runtimes import BASELINE, FILE_RUNTIMES

__all__ = ["EnsembleExport", "ExportSettings", "build_onnx", "export_ensemble"]


@dataclass
class EnsembleExport:
    path: Path
    ref: str
    parity: Parity | Decisions  # the gate the file passed (Decisions: rounded arithmetic)
    bytes: int
    runtime: dict  # the session options the file was measured fastest with (runtime.choice)
    layout: dict  # members separate or fused, the trees, and why (member_layouts)


def default_path(card: Card, export_dir: str | Path = "export") -> Path:
    return Path(export_dir) / f"{card.name}-{card.version}.onnx"


def build_onnx(
    registry: Registry, loaded: LoadedEnsemble, fuse: bool = False, trees: str = "ml"
) -> Any:
    """The merged ModelProto, from the members' hash-checked ONNX bytes."""
    return _merged(loaded, _member_bytes(registry, loaded), fuse, trees)


def _member_bytes(registry: Registry, loaded: LoadedEnsemble) -> list[bytes]:
    return [registry.read_file(m.card, m.card.onnx) for m in loaded.members]


def _merged(loaded: LoadedEnsemble, blobs: list[bytes], fuse: bool, trees: str) -> Any:
    """The merged ModelProto of `blobs` (parsed afresh: merging rewrites its members' opsets)."""
    import onnx

    protos = [onnx.load_from_string(b) for b in blobs]
    model = merge_ensemble(protos, loaded.booster, fuse=fuse, trees=trees)
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


def tree_forms(mode: str) -> list[str]:
    """The meta-learner's forms to try, in order: `mode` ``plain`` or ``ml`` alone; ``auto``
    plain first where OpenVINO is installed (it reads no ai.onnx.ml; onnxruntime runs either),
    onnxmltools' trees after it should the plain file fail the gate, else those alone."""
    if mode not in ("auto", *TREES):
        raise ValueError(f"trees {mode!r}: expected one of auto, {', '.join(TREES)}")
    if mode != "auto":
        return [mode]
    return ["plain", "ml"] if importlib.util.find_spec("openvino") else ["ml"]


def member_layouts(registry: Registry, loaded: LoadedEnsemble, mode: str, trees: str) -> list:
    """[(ModelProto, layout record)]: members separate, and fused by shape
    (pairzoo.ensemble.fuse) where `mode` (auto, always, never) and the members allow it. Fusing
    needs members of one shape with operators to stack (convolutions)."""
    import onnx

    from pairzoo.ensemble.fuse import groups_of, stacked_operators

    blobs = _member_bytes(registry, loaded)
    protos = [onnx.load_from_string(b) for b in blobs]
    sizes = sorted((len(g) for g in groups_of(protos)), reverse=True)
    record = {"mode": mode, "groups": sizes, "trees": trees}
    fusable = sizes[0] >= 2 and stacked_operators(protos) > 0
    out = []
    if mode != "always" or not fusable:
        out.append((_merged(loaded, blobs, False, trees), {**record, "members": "separate"}))
    if mode != "never" and fusable:
        out.append((_merged(loaded, blobs, True, trees), {**record, "members": "fused"}))
    return out


def export_ensemble(
    registry: Registry,
    settings: ExportSettings,
    x_val: np.ndarray,
    y_val: np.ndarray | None = None,
) -> EnsembleExport:
    """Merge, pick the layout and runtime (`settings.runtime`: auto or a name of FILE_RUNTIMES)
    measured fastest here, gate the file on val in them, write it atomically if it passes.

    Members separate in fp32 give the Python path's arithmetic: the file is held to its
    probabilities within the tolerance (merged_parity). Fused, in bf16, or int8 in OpenVINO,
    they round otherwise: held to decisions (pairzoo.ensemble.decision_gate; `y_val`, val's
    labels, hold them to accuracy). Such a candidate meets that gate inside the runtime choice,
    so one that fails leaves the pick to the next fastest."""
    s = settings
    loaded = load_ensemble(registry, s.ref, s.threads, s.int8)
    full = loaded.card.ref
    feeds = dict(zip(("xa", "xb"), split_batch(x_val[: s.batch_size]), strict=True))
    reference = predict_booster(
        loaded.booster, logit_matrix(loaded.members, x_val, s.batch_size).logits, s.threads
    )
    what = f"{full} as one file"
    judge = Judge(x_val, reference, y_val, s.batch_size)  # files that round otherwise: decisions
    failed: dict[str, str] = {}  # a layout that failed the gate, and how, when another is tried
    for trees in tree_forms(s.trees):
        layouts = member_layouts(registry, loaded, s.fuse, trees)
        for model, data, layout, choice, session in _fastest_first(layouts, s, feeds, what, judge):
            if layout["members"] == "fused" or held_to_decisions(choice.runtime, data):
                parity = judge.decisions(session)
                record = {"decisions": parity.to_dict()}
            else:
                parity = gate_merged(session, x_val, reference, s.tolerance, s.batch_size)
                record = {}
            if parity.ok:
                return _write(model, loaded, s, choice, parity, {**layout, **record, **failed})
            failed[f"{layout['members']}_{trees}_failed"] = parity.describe()
    raise ExportError(
        f"{full}: single-file ONNX differs from the Python path on {parity.describe()}; nothing written"
    )


def _fastest_first(layouts: list, s: ExportSettings, feeds: dict, what: str, decision_gate) -> list:
    """[(model, its bytes, layout, runtime choice, session)], each layout in the runtime picked
    for it, the one faster here first: the picks are measured again side by side
    (runtime.timing)."""
    from pairzoo.runtime.timing import measure

    picked = []
    for model, layout in layouts:
        data = model.SerializeToString()
        choice, session = _choose(data, s, feeds, what, decision_gate)
        picked.append((model, data, layout, choice, session))
    if len(picked) < 2:
        return picked
    speeds = measure({layout["members"]: session for _, _, layout, _, session in picked}, feeds)
    runtimes = {layout["members"]: choice.chosen for _, _, layout, choice, _ in picked}
    for _, _, layout, _, _ in picked:
        layout["pairs_per_s"] = {k: round(v, 1) for k, v in speeds.items()}
        layout["runtimes"] = runtimes
    return sorted(picked, key=lambda p: speeds[p[2]["members"]], reverse=True)


def _choose(data: bytes, s: ExportSettings, feeds: dict, what: str, decision_gate) -> tuple:
    """(runtime choice, session) of the file `data` among FILE_RUNTIMES, a candidate that rounds
    otherwise (runtime.choice.held_to_decisions) held to `decision_gate` (the decisions over val:
    pairzoo.ensemble.decision_gate)."""
    try:
        return choose_runtime(
            data, FILE_RUNTIMES, s.runtime, feeds=feeds, what=what, decision_gate=decision_gate
        )
    except PairzooError:
        raise
    except Exception:  # onnxruntime's untyped errors: the gate meets them again, names them
        forced = BASELINE if s.runtime == "auto" else s.runtime
        return choose_runtime(data, FILE_RUNTIMES, forced, what=what)


def _write(model, loaded: LoadedEnsemble, s: ExportSettings, choice, parity, layout: dict):
    data = _with_runtime(model, {**choice.to_dict(), "layout": layout}).SerializeToString()
    path = Path(s.out) if s.out is not None else default_path(loaded.card)
    write_bytes(path, data)
    return EnsembleExport(
        path=path,
        ref=loaded.card.ref,
        parity=parity,
        bytes=len(data),
        runtime=choice.to_dict(),
        layout=layout,
    )


def _with_runtime(model: Any, choice: dict) -> Any:
    """`model` with the chosen session options in its metadata (set_model_props replaces all)."""
    import onnx

    props = {p.key: p.value for p in model.metadata_props}
    record = {k: choice[k] for k in ("chosen", "options", "pairs_per_s", "layout")}
    onnx.helper.set_model_props(model, {**props, "pairzoo_runtime": json.dumps(record)})
    return model
