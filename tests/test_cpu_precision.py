"""CPU training's precision: bf16 only where a measured probe says it pays, fp32 evaluation."""

from __future__ import annotations

import threading

import pytest
import torch

from pairzoo import speed_cache
from pairzoo.errors import ConfigError
from pairzoo.machine import Cpu
from pairzoo.train import cpu_precision
from pairzoo.train.cpu_precision import BF16, FP32, MIN_GAIN, choose, pick
from pairzoo.train.device import Runtime, pick_runtime

ZEN4 = Cpu("AMD EPYC (Zen 4)", ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16"), 2)
ZEN3 = Cpu("AMD EPYC (Zen 3)", ("avx2", "fma"), 2)


class FakeClock:
    """Each timed round of the probe lasts `seconds[precision]`: rounds alternate fp32, bf16."""

    def __init__(self, fp32: float, bf16: float):
        self.durations = (fp32, bf16)
        self.now = 0.0
        self.calls = 0

    def __call__(self) -> float:
        if self.calls % 2:  # the end of a round
            self.now += self.durations[(self.calls // 2) % 2]
        self.calls += 1
        return self.now


@pytest.fixture
def no_probe(monkeypatch):
    """The probe's steps cost nothing; only the fake clock decides."""
    monkeypatch.setattr(cpu_precision, "_probe_step", lambda dtype: lambda: None)


def test_pick_needs_the_gain():
    assert pick("auto", {FP32: 10.0, BF16: 10.0 * MIN_GAIN}) == BF16
    assert pick("auto", {FP32: 10.0, BF16: 10.0 * MIN_GAIN - 0.01}) == FP32
    assert pick("never", {FP32: 1.0, BF16: 100.0}) == FP32
    assert pick("always", {FP32: 100.0, BF16: 1.0}) == BF16
    with pytest.raises(ValueError, match="needs measured speeds"):
        pick("auto", None)


def test_auto_takes_bf16_where_it_is_faster_and_caches_it(tmp_path, no_probe):
    cache = tmp_path / "speeds.json"
    clock = FakeClock(fp32=1.0, bf16=0.5)
    first = choose("auto", clock=clock, cpu=ZEN4, cache=cache, kernels=True)
    assert (first.chosen, first.cached, first.dtype) == (BF16, False, torch.bfloat16)
    assert first.speeds[BF16] == pytest.approx(2 * first.speeds[FP32])
    assert "bf16" in first.describe() and "steps/s" in first.describe()

    calls = clock.calls
    again = choose("auto", clock=clock, cpu=ZEN4, cache=cache, kernels=True)
    assert (again.chosen, again.cached, again.speeds) == (BF16, True, first.speeds)
    assert clock.calls == calls  # read from the cache, nothing timed


def test_auto_keeps_fp32_where_bf16_is_slower(tmp_path, no_probe):
    choice = choose("auto", FakeClock(0.5, 1.0), cpu=ZEN3, cache=tmp_path / "c.json", kernels=True)
    assert (choice.chosen, choice.dtype) == (FP32, None)


def test_the_cache_is_per_cpu_kind(tmp_path, no_probe):
    cache = tmp_path / "speeds.json"
    assert choose("auto", FakeClock(1.0, 0.5), cpu=ZEN4, cache=cache, kernels=True).chosen == BF16
    other = choose("auto", FakeClock(0.5, 1.0), cpu=ZEN3, cache=cache, kernels=True)
    assert (other.chosen, other.cached) == (FP32, False)


def test_without_bf16_kernels_auto_is_fp32_and_always_is_refused(tmp_path, no_probe):
    clock = FakeClock(1.0, 0.1)
    choice = choose("auto", clock, cpu=ZEN3, cache=tmp_path / "c.json", kernels=False)
    assert (choice.chosen, choice.speeds, clock.calls) == (FP32, None, 0)
    assert "no bf16 kernels" in choice.describe()
    with pytest.raises(ConfigError, match="PAIRZOO_CPU_BF16=always"):
        choose("always", clock, cpu=ZEN3, cache=tmp_path / "c.json", kernels=False)


def test_forced_modes_measure_nothing(tmp_path, no_probe):
    clock = FakeClock(1.0, 0.5)
    assert choose("never", clock, cpu=ZEN4, cache=tmp_path / "c.json").chosen == FP32
    assert choose("always", clock, cpu=ZEN4, cache=tmp_path / "c.json", kernels=True).chosen == BF16
    assert clock.calls == 0 and not (tmp_path / "c.json").exists()


def test_the_mode_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("PAIRZOO_CPU_BF16", "never")
    assert pick_runtime("cpu").amp_dtype is None
    assert "fp32" in pick_runtime("cpu").precision
    monkeypatch.setenv("PAIRZOO_CPU_BF16", "sometimes")
    with pytest.raises(ConfigError, match=r"\$PAIRZOO_CPU_BF16 must be one of auto, always, never"):
        pick_runtime("cpu")


def test_former_settings_and_no_amp_train_in_fp32(monkeypatch, no_probe):
    monkeypatch.setenv("PAIRZOO_CPU_BF16", "always")
    monkeypatch.setattr(cpu_precision, "bf16_kernels", lambda: True)
    assert pick_runtime("cpu").amp_dtype == torch.bfloat16
    assert pick_runtime("cpu", amp=False).amp_dtype is None
    monkeypatch.setenv("PAIRZOO_CPU_TUNED", "0")
    former = pick_runtime("cpu")
    assert (former.amp_dtype, former.channels_last, former.fused_optimizer) == (None, False, False)


def test_processes_that_start_together_measure_once(tmp_path):
    cache, measured = tmp_path / "speeds.json", []

    def measure():
        measured.append(1)
        threading.Event().wait(0.2)  # long enough for the other thread to reach the lock
        return {FP32: 1.0, BF16: 2.0}

    results = []

    def one():
        results.append(speed_cache.lookup_or_measure(cache, "m", "k", (FP32, BF16), measure))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(measured) == 1
    assert sorted(cached for _, cached in results) == [False, True]
    assert all(speeds == {FP32: 1.0, BF16: 2.0} for speeds, _ in results)


def test_cpu_evaluation_runs_in_fp32_under_a_bf16_runtime():
    from pairzoo.train.loop import predict_logits

    torch.manual_seed(0)
    model = _TinyPair()
    x = torch.randint(0, 256, (8, 28, 56), dtype=torch.uint8)
    fp32 = Runtime(torch.device("cpu"), None, channels_last=False)
    bf16 = Runtime(torch.device("cpu"), torch.bfloat16, channels_last=False)
    assert torch.equal(predict_logits(model, x, bf16), predict_logits(model, x, fp32))
    with bf16.autocast():
        assert model.conv(torch.rand(1, 1, 28, 28)).dtype == torch.bfloat16


@pytest.mark.skipif(not cpu_precision.bf16_kernels(), reason="no bf16 CPU kernels here")
def test_training_in_bf16_records_it_and_its_val_is_fp32(tmp_path, monkeypatch):
    from train_fixtures import make_data

    from pairzoo.train.evaluate import evaluate_run
    from pairzoo.train.trainer import train_run

    monkeypatch.setenv("PAIRZOO_CPU_BF16", "always")
    easy_data = make_data(tmp_path / "data", n_train=512, n_val=256)
    config = {
        "arch": "baseline",
        "arch_params": {"width_mult": 0.25, "feat_dim": 32},
        "data": str(easy_data),
        "train": {"epochs": 3, "batch_size": 32, "lr": 3e-3, "threads": 1},
    }
    metrics = train_run(config, tmp_path / "run", progress=False)
    assert metrics["train_dtype"] == "bf16"
    assert "precision bf16" in (tmp_path / "run" / "train.log").read_text()
    # The run's val accuracy is the fp32 model's, as `eval` (and the exported file) compute it.
    evaluated = evaluate_run(tmp_path / "run", easy_data, splits=("val",))
    assert evaluated["val"]["accuracy"] == pytest.approx(metrics["val"]["accuracy"])
    assert metrics["val"]["accuracy"] > 0.7


class _TinyPair(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)

    def forward(self, xa, xb):
        return (self.conv(xa) - self.conv(xb)).mean(dim=(1, 2, 3))
