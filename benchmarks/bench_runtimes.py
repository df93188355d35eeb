"""The cpu zoo's shapes in every runtime: separate sessions against the one file, against eager.

The members are the cpu profile's eleven models (pairzoo/zoo/zoo.toml, 1/8 width), built from
the plugin catalog with untrained weights (speed does not depend on them) and exported through
the project's export path, so this runs on a fresh clone; with $PAIRZOO_BENCH_REGISTRY, that
registry's latest fp32 models instead. The stacker is a small LightGBM booster fitted on random
logits. Head to head, best of interleaved rounds, on the same pairs at batch 256:

- PyTorch eager fp32 at 1 and 2 threads (the goal's reference; not with a registry);
- separate onnxruntime sessions + LightGBM, members in 1 and 2 workers (the Python path);
- the same in OpenVINO fp32 (and bf16 where the CPU has it), skipped with a reason if absent;
- the one-file ensemble in each of pairzoo.runtime.runtimes.FILE_RUNTIMES that can run it: with
  onnxmltools' trees (onnxruntime only) and, where OpenVINO is installed, with plain-operator
  trees (pairzoo.ensemble.tree_ops), members separate and fused by shape.

The last line is a JSON record: CPU, date, commit, pairs/s of each and its ratio to eager.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

BATCH = 256
PAIRS = 512
ROUNDS = 3


def untrained_zoo(tmp: Path) -> tuple[dict[str, bytes], list]:
    """({name: ONNX bytes}, [torch models]) of the cpu profile's models, weights untrained."""
    import torch

    from pairzoo.exporting.onnx_export import export_onnx
    from pairzoo.plugins import build_architecture, load_plugins
    from pairzoo.zoo.spec import load_zoo

    load_plugins()
    files, models = {}, []
    for i, spec in enumerate(load_zoo(profile="cpu").models):
        torch.manual_seed(i)
        model = build_architecture(spec.config["arch"], spec.config.get("arch_params")).eval()
        export_onnx(model, tmp / f"{spec.name}.onnx")
        files[spec.name] = (tmp / f"{spec.name}.onnx").read_bytes()
        models.append(model)
    return files, models


def registry_files(path: Path) -> dict[str, bytes]:
    from pairzoo.ensemble.members import member_refs
    from pairzoo.registry import Registry

    reg = Registry(path)
    cards = [reg.resolve(ref) for ref in member_refs(reg, None)]
    return {c.name: reg.read_file(c, c.onnx) for c in cards}


def random_booster(n_members: int):
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, n_members))
    y = (x.sum(axis=1) + rng.normal(size=2000) > 0).astype(int)
    params = {"objective": "binary", "num_leaves": 8, "verbose": -1, "num_threads": 1}
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=50)


def separate(files: dict[str, bytes], runtime) -> list:
    from pairzoo.ensemble.members import Member
    from pairzoo.runtime.backends import open_runtime

    return [
        Member(name, None, "", open_runtime(data, runtime, name)) for name, data in files.items()
    ]


def contenders(files, models, booster) -> dict:
    import onnx
    import torch

    from benchmarks.bench_ensemble import eager_pass, stacked
    from pairzoo.ensemble.merged_parity import run_merged
    from pairzoo.ensemble.onnx_merge import merge_ensemble
    from pairzoo.runtime.backends import last_line, open_runtime, unavailable
    from pairzoo.runtime.runtimes import FILE_RUNTIMES, MEMBER_RUNTIMES, get_runtime

    x = np.random.default_rng(1).integers(0, 256, (PAIRS, 28, 56), dtype=np.uint8)
    out = {}
    for threads in (1, 2) if models else ():
        out[f"eager fp32, {threads} threads"] = (
            eager_pass,
            models,
            torch.from_numpy(x),
            BATCH,
            threads,
        )
    for name in MEMBER_RUNTIMES:
        reason = unavailable(get_runtime(name))
        if reason:
            print(f"{name}: skipped, {reason}", flush=True)
            continue
        try:
            members = separate(files, get_runtime(name))
        except Exception as exc:  # a backend that reports a precision it cannot compile
            print(f"{name}: skipped, failed to open ({last_line(exc)})", flush=True)
            continue
        for workers in (1, 2):
            out[f"{name} separate + LightGBM, {workers} worker(s)"] = (
                stacked,
                booster,
                members,
                x,
                BATCH,
                workers,
            )
    for label, fuse, trees in one_files():
        protos = [onnx.load_from_string(b) for b in files.values()]
        data = merge_ensemble(protos, booster, fuse=fuse, trees=trees).SerializeToString()
        for name in FILE_RUNTIMES:
            if unavailable(get_runtime(name), data):
                continue
            try:
                session = open_runtime(data, get_runtime(name), label)
            except Exception as exc:  # as above
                print(f"{label}, {name}: skipped, failed to open ({last_line(exc)})", flush=True)
                continue
            out[f"{label}, {name}"] = (run_merged, session, x, BATCH)
    return out, x


def one_files() -> list[tuple[str, bool, str]]:
    """(label, fuse, trees) of the one-file layouts to time: onnxmltools' trees, and with
    OpenVINO installed the plain trees it reads, members separate and fused."""
    import importlib.util

    rows = [("one file", False, "ml")]
    if importlib.util.find_spec("openvino"):
        rows += [("one file plain trees", False, "plain"), ("one file fused plain", True, "plain")]
    else:
        rows.append(("one file fused", True, "ml"))
    return rows


def main() -> None:
    from benchmarks.bench_ensemble import head_to_head
    from pairzoo.machine import this_cpu

    registry = os.environ.get("PAIRZOO_BENCH_REGISTRY")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        if registry:
            files, models = registry_files(Path(registry)), []
        else:
            files, models = untrained_zoo(Path(tmp))
        print(f"{len(files)} members ready in {time.perf_counter() - t:.0f} s", flush=True)
        runs, x = contenders(files, models, random_booster(len(files)))
        best = head_to_head(runs, len(x), rounds=ROUNDS)
    base_label = max(
        (k for k in best if k.startswith("eager")), key=lambda k: best[k].wall, default=None
    )
    base = best[base_label].wall if base_label else best[next(iter(best))].wall
    print(
        f"\npairs/s at batch {BATCH}, best of {ROUNDS} interleaved rounds (vs {base_label or 'first'}):"
    )
    for label, rate in best.items():
        print(
            f"  {label:<48} {rate.wall:8,.0f}  {rate.wall / base:5.2f}x  ({rate.cpu:,.0f} per CPU-s)"
        )
    record = {
        "bench": "runtimes",
        "cpu": this_cpu().describe(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": _commit(),
        "members": list(files),
        "trained": bool(registry),
        "batch": BATCH,
        "pairs": PAIRS,
        "rounds": ROUNDS,
        "reference": base_label,
        "pairs_per_s": {k: round(v.wall, 1) for k, v in best.items()},
        "vs_reference": {k: round(v.wall / base, 3) for k, v in best.items()},
    }
    print(json.dumps(record))


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
