"""fp32 or int8 per ensemble member, decided by timing on this CPU kind and cached per CPU kind.

Timing is faked (an injected clock that fake sessions advance), never measured by wall clock.
"""

from __future__ import annotations

import numpy as np
import pytest
from ensemble_fixtures import make_data_dir, make_pairs, register_tiny_models

from pairzoo.data.format import save_split
from pairzoo.ensemble.members import Member, load_ensemble, member_refs
from pairzoo.ensemble.pipeline import run_ensemble_eval
from pairzoo.ensemble.settings import EvalSettings
from pairzoo.ensemble.stacking import StackingParams
from pairzoo.ensemble.variants import FP32, INT8, choose, pick
from pairzoo.exporting.quantize import quantize_entry
from pairzoo.machine import parse_cpuinfo
from pairzoo.registry import Registry

AVX2_ONLY = parse_cpuinfo(
    "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse2 avx fma avx2\n"
)
VNNI = parse_cpuinfo(
    "processor\t: 0\nmodel name\t: AMD EPYC 9B14\n"
    "flags\t\t: fpu sse2 avx fma avx2 avx512f avx512_vnni avx512_bf16\n"
)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeSession:
    """Costs `seconds` of the fake clock per run."""

    def __init__(self, clock: FakeClock, seconds: float):
        self.clock, self.seconds, self.runs = clock, seconds, 0

    def run(self, names, feeds):
        self.runs += 1
        self.clock.now += self.seconds
        return [np.zeros(len(feeds["xa"]), dtype=np.float32)]


def _pair(fp32_s: float, int8_s: float, clock: FakeClock) -> tuple[Member, Member]:
    fp32 = Member("m", 1, "a" * 64, FakeSession(clock, fp32_s), output="logit")
    int8 = Member("m-int8", 1, "b" * 64, FakeSession(clock, int8_s), output="logit")
    return fp32, int8


def test_avx2_only_cpu_where_int8_is_slower_picks_fp32(tmp_path):
    clock = FakeClock()
    fp32, int8 = _pair(0.010, 0.017, clock)  # the Zen 3 figures: fp32 171, int8 100 pairs/s
    choice = choose(fp32, int8, "auto", cpu=AVX2_ONLY, clock=clock, cache=tmp_path / "c.json")
    assert choice.chosen == FP32 and not choice.cached
    assert choice.speeds == pytest.approx({FP32: 6400.0, INT8: 64 / 0.017})


def test_vnni_cpu_where_int8_is_faster_picks_int8(tmp_path):
    clock = FakeClock()
    fp32, int8 = _pair(0.010, 0.004, clock)
    choice = choose(fp32, int8, "auto", cpu=VNNI, clock=clock, cache=tmp_path / "c.json")
    assert choice.chosen == INT8


def test_speeds_are_cached_per_cpu_kind(tmp_path):
    cache = tmp_path / "c.json"
    clock = FakeClock()
    fp32, int8 = _pair(0.010, 0.017, clock)
    choose(fp32, int8, "auto", cpu=AVX2_ONLY, clock=clock, cache=cache)
    runs = fp32.session.runs
    again = choose(fp32, int8, "auto", cpu=AVX2_ONLY, clock=clock, cache=cache)
    assert again.cached and again.chosen == FP32 and fp32.session.runs == runs
    # Same files on a VNNI CPU: measured afresh there, not taken from the AVX2 entry.
    fast_fp32, fast_int8 = _pair(0.010, 0.004, clock)
    fast_fp32.sha256, fast_int8.sha256 = fp32.sha256, int8.sha256
    there = choose(fast_fp32, fast_int8, "auto", cpu=VNNI, clock=clock, cache=cache)
    assert not there.cached and there.chosen == INT8


def test_forced_modes_override_the_timing(tmp_path):
    clock = FakeClock()
    fp32, int8 = _pair(0.010, 0.017, clock)
    cache = tmp_path / "c.json"
    assert choose(fp32, int8, "always", cpu=AVX2_ONLY, clock=clock, cache=cache).chosen == INT8
    assert choose(fp32, int8, "never", cpu=VNNI, clock=clock, cache=cache).chosen == FP32
    assert fp32.session.runs == 0  # forced modes measure nothing


def test_a_near_tie_goes_to_fp32_and_no_variant_means_fp32():
    assert pick("auto", {FP32: 100.0, INT8: 103.0}, True) == FP32
    assert pick("auto", {FP32: 100.0, INT8: 107.0}, True) == FP32
    assert pick("auto", {FP32: 100.0, INT8: 115.0}, True) == INT8
    assert pick("always", None, False) == FP32


def test_cpu_flags_are_read_from_cpuinfo():
    assert AVX2_ONLY.flags == ("avx2", "fma")
    assert "avx512_vnni" in VNNI.flags and AVX2_ONLY.key() != VNNI.key()


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("int8choice")
    reg = Registry(tmp / "registry")
    register_tiny_models(reg, tmp, 2)
    data = make_data_dir(tmp / "data", n_val=300, n_test=100)
    x, y, _ = make_pairs(300, seed=5)
    save_split(data / "train.npz", x, np.array([f"T{i}" for i in range(300)]), y=y)
    quantize_entry(reg, "tiny0", data, calibration=128, max_drop=0.05)
    return reg, data, tmp


def test_the_ensemble_takes_an_int8_variant_as_its_models_variant(zoo, tmp_path, monkeypatch):
    reg, data, _ = zoo
    monkeypatch.setenv("PAIRZOO_CACHE_DIR", str(tmp_path))
    assert sorted(member_refs(reg, None)) == ["tiny0@1", "tiny1@1"]  # no int8 member of its own
    run = run_ensemble_eval(
        reg,
        EvalSettings(data, tmp_path / "ens", params=StackingParams(n_estimators=10), int8="always"),
    )
    tiny0 = next(m for m in run.card["members"] if m["name"].startswith("tiny0"))
    assert tiny0["name"] == "tiny0-int8" and tiny0["variant_fitted"] == INT8
    assert tiny0["variants"]["fp32"]["name"] == "tiny0"
    row = next(r for r in run.report["leaderboard"] if r["method"].startswith("tiny0"))
    assert row["variant"]["chosen"] == INT8
    # The same entry on a machine (or with a flag) where fp32 wins runs the fp32 member.
    loaded = load_ensemble(reg, run.card["name"], int8="never")
    assert sorted(m.name for m in loaded.members) == ["tiny0", "tiny1"]
