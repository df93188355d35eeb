"""Export figures: ONNX export and parity-gate time and max |onnx - torch| per builtin architecture.

Models are built at their defaults with width_mult 0.25, their batch-norm statistics set from
real corrupted validation pairs so the activations look trained, then exported and checked on
1,000 distinct validation pairs. At full defaults only export and checker time are measured,
unless PAIRZOO_BENCH_FULL=1 asks for the parity gate there too (minutes on a 2-core CPU). One
end-to-end `export_run` (load, export, check, parity, card, registry) is timed on a tiny run.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def _calibrate(model, xa, xb) -> None:
    """Batch-norm running statistics from real pairs (cumulative average), then eval mode."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None
    model.train()
    with torch.no_grad():
        for i in range(0, len(xa), 128):
            model(torch.from_numpy(xa[i : i + 128]), torch.from_numpy(xb[i : i + 128]))
    model.eval()


def _bench_arch(name: str, params: dict, xa, xb, tmp: Path, parity: bool = True) -> dict:
    import torch

    from pairzoo.exporting.onnx_export import check_onnx, export_onnx
    from pairzoo.exporting.parity import run_parity
    from pairzoo.plugins import build_architecture
    from pairzoo.profiling import count_macs, count_params

    torch.manual_seed(0)
    model = build_architecture(name, params)
    _calibrate(model, xa[:512], xb[:512])
    path = tmp / f"{name}.onnx"
    start = time.perf_counter()
    export_onnx(model, path)
    exported = time.perf_counter()
    facts = check_onnx(path)
    checked = time.perf_counter()
    cpu = time.process_time()
    report = run_parity(model, path, xa, xb) if parity else None
    done = time.perf_counter()
    return {
        "params": count_params(model),
        "macs": count_macs(model),
        "bytes": facts["bytes"],
        "export_s": exported - start,
        "check_s": checked - exported,
        "parity_s": done - checked,
        "parity_cpu_s": time.process_time() - cpu,
        "report": report,
    }


def _print_row(name: str, label: str, r: dict) -> None:
    head = (
        f"{name:<12} {label:<6} {r['params']:>9,} {r['macs'] / 1e6:>8.1f}M {r['bytes'] / 1e6:>6.2f}MB "
        f"{r['export_s']:>6.2f} {r['check_s']:>6.2f}"
    )
    rep = r["report"]
    if rep is None:
        print(f"{head}       -  (export only)")
        return
    diffs = " ".join(f"{b['max_abs_diff']:.1e}" for b in rep["batches"])
    swap = rep["swap"]
    print(
        f"{head} {r['parity_s']:>7.2f} {r['parity_cpu_s']:>7.2f}  {diffs}  "
        f"{swap['max_abs_diff']:.1e}  {swap['flip_rate']:>5.1%} {swap['antisymmetry_max_abs']:.1e}"
        f"  {'pass' if rep['passed'] else 'FAIL'}"
    )


def _end_to_end(data_dir: Path, tmp: Path) -> None:
    from pairzoo.exporting import export_run
    from pairzoo.train import train_run

    config = {
        "arch": "resnet",
        "arch_params": {"width_mult": 0.25},
        "data": str(data_dir),
        "train": {"epochs": 1, "subset": 256, "batch_size": 64, "augment": False},
    }
    train_run(config, tmp / "run", progress=False)
    start = time.perf_counter()
    card = export_run(tmp / "run", tmp / "registry")
    total = time.perf_counter() - start
    t = card["timings"]
    print(
        f"export_run resnet width 0.25 (run dir -> registry entry): {total:.2f} s "
        f"(load {t['load_s']:.2f}, export+check {t['export_s']:.2f}, parity {t['parity_s']:.2f})"
    )


def main() -> None:
    import onnxruntime
    import torch

    from pairzoo.data.format import load_data_dir
    from pairzoo.data.generate import DatasetSettings, make_dataset
    from pairzoo.data.tensors import split_pairs_np
    from pairzoo.plugins import catalog

    full = os.environ.get("PAIRZOO_BENCH_FULL") == "1"
    print(
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"onnxruntime {onnxruntime.__version__}"
    )
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sizes = {"train": 256, "val": 1000, "test_public": 64}
        make_dataset(tmp / "data", DatasetSettings(seed=7, sizes=sizes))
        xa, xb = split_pairs_np(load_data_dir(tmp / "data", "val").x)
        print(f"parity on {len(xa)} distinct corrupted validation pairs, batches 1 / 7 / 1000")
        print(
            "arch         size      params     MACs    onnx export  check  parity  (CPU s)  "
            "max|diff| b1 b7 b1000  swapped  flips antisym  gate"
        )
        for name, item in catalog().architectures.items():
            small = {"width_mult": 0.25} if "width_mult" in item.params else {}
            _print_row(name, "w0.25", _bench_arch(name, small, xa, xb, tmp))
            _print_row(name, "full", _bench_arch(name, {}, xa, xb, tmp, parity=full))
        _end_to_end(tmp / "data", tmp)
