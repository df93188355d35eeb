"""Training throughput on this CPU: the trainer against a plain PyTorch loop, in one run.

Model: the cpu profile's `resnet_seed42` of the builtin zoo (1/8 width, batch 128, digit
supervision, swap), one thread (as each of train-all's workers). Contenders, in turns so that
all share the machine's load, best round each:

- plain PyTorch loop (the reference): pre-made float tensors, contiguous layout, AdamW's loop;
- the trainer with the former CPU settings ($PAIRZOO_CPU_TUNED=0: contiguous, AdamW's loop, fp32);
- the trainer on channels_last with a fused AdamW, in fp32;
- the same in bf16 autocast, where this CPU has bf16 kernels;
- the trainer as it runs by default here (the precision `pairzoo.train.cpu_precision` picks).

Every figure is printed as a ratio to the reference. PAIRZOO_BENCH_MODELS (comma-separated zoo
names) benchmarks other models of the zoo.
"""

from __future__ import annotations

import os
import time

import torch

BATCHES = 4  # per timed round
ROUNDS = 3
GOAL = 1.5  # tuned trainer over the former settings


def zoo_config(name: str) -> dict:
    """The builtin zoo's cpu-profile run config of model `name`, on no data."""
    from pairzoo.zoo.spec import load_zoo

    (spec,) = [m for m in load_zoo(None, "cpu").models if m.name == name]
    return {**spec.config, "data": "-", "rule": "greater"}


def _session(cfg: dict, train, tuned: bool, dtype: torch.dtype | None = None):
    from pairzoo.train.device import Runtime
    from pairzoo.train.runconfig import RunConfig
    from pairzoo.train.session import build_session

    runtime = Runtime(torch.device("cpu"), dtype, channels_last=tuned, fused_optimizer=tuned)
    return build_session(RunConfig.from_dict(cfg), runtime, train)


def _trainer_round(session, train) -> float:
    from pairzoo.train.loop import train_epoch

    order = torch.from_numpy(session.np_rng.permutation(len(train)))
    start = time.perf_counter()
    train_epoch(session.stepper, train, order)
    return len(train) / (time.perf_counter() - start)


def _plain_loop(cfg: dict, train):
    """A model and AdamW as a tutorial would train them: one callable per timed round."""
    import torch.nn.functional as F

    from pairzoo.plugins import build_architecture
    from pairzoo.train.augment import to_pair

    torch.manual_seed(0)
    model = build_architecture(cfg["arch"], cfg["arch_params"])
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["train"]["lr"])
    bs = cfg["train"]["batch_size"]
    pairs = to_pair(train.x)
    batches = [
        (pairs[i : i + bs, 0:1].contiguous(), pairs[i : i + bs, 1:2].contiguous(), i)
        for i in range(0, len(train), bs)
    ]

    def run() -> float:
        model.train()
        start = time.perf_counter()
        for xa, xb, i in batches:
            logits, digit_logits = model.forward_aux(xa, xb)
            loss = F.binary_cross_entropy_with_logits(logits, train.y[i : i + bs])
            loss = loss + F.cross_entropy(
                digit_logits.reshape(-1, 10), train.digits[i : i + bs].reshape(-1)
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return len(train) / (time.perf_counter() - start)

    return run


def main() -> None:
    from pairzoo.train.device import cpu_threads

    names = os.environ.get("PAIRZOO_BENCH_MODELS", "resnet_seed42").split(",")
    with cpu_threads(1):
        for name in names:
            _bench(name.strip())


def _bench(name: str) -> None:
    from pairzoo.train import cpu_precision
    from pairzoo.train.probe import random_pairs

    cfg = zoo_config(name)
    train = random_pairs(cfg["train"]["batch_size"] * BATCHES)
    choice = cpu_precision.choose()
    sessions = {
        "trainer, former CPU settings": _session(cfg, train, False),
        "trainer, channels_last + fused AdamW, fp32": _session(cfg, train, True),
    }
    if cpu_precision.bf16_kernels():
        sessions["trainer, channels_last + fused AdamW, bf16"] = _session(
            cfg, train, True, torch.bfloat16
        )
    default = f"trainer, channels_last + fused AdamW, {choice.chosen}"
    contenders = {"plain PyTorch loop (reference)": _plain_loop(cfg, train)}
    for label, session in sessions.items():
        contenders[label] = lambda session=session: _trainer_round(session, train)
    for run in contenders.values():  # warm-up: oneDNN picks and caches its kernels
        run()
    best = dict.fromkeys(contenders, 0.0)
    for _ in range(ROUNDS):
        for label, run in contenders.items():
            best[label] = max(best[label], run())
    ref = best["plain PyTorch loop (reference)"]
    print(
        f"{name} (cpu profile, batch {cfg['train']['batch_size']}, 1 thread, "
        f"{BATCHES} batches x {ROUNDS} rounds, best round): training pairs/s, ratio to the reference"
    )
    for label, rate in best.items():
        mark = "  <- default here" if label == default else ""
        print(f"  {label:<46} {rate:7,.0f}  {rate / ref:5.2f}x{mark}")
    gain = best[default] / best["trainer, former CPU settings"]
    print(f"  default precision here: {choice.describe()}")
    print(
        f"  default / former settings: {gain:.2f}x (goal >= {GOAL})"
        f"{'' if gain >= GOAL else '  BELOW'}"
    )
