"""Runtimes: an absent backend is skipped with a reason, the choice is cached and forced, a
runtime whose outputs differ is never chosen, OpenVINO (where installed) gives onnxruntime's logits."""

from __future__ import annotations

import numpy as np
import pytest
from ensemble_fixtures import make_pairs, register_tiny_models, tiny_torch_onnx

import pairzoo.runtime.backends as runtimes
import pairzoo.runtime.choice as runtime_choice
import pairzoo.runtime.timing as timing
from pairzoo.errors import ConfigError
from pairzoo.runtime.backends import open_runtime
from pairzoo.runtime.batches import split_batch
from pairzoo.runtime.choice import choose_runtime
from pairzoo.runtime.runtimes import FILE_RUNTIMES, MEMBER_RUNTIMES, get_runtime


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> bytes:
    return tiny_torch_onnx(tmp_path_factory.mktemp("runtime") / "tiny.onnx", seed=3).read_bytes()


@pytest.fixture
def no_openvino(monkeypatch):
    real = runtimes.importlib.util.find_spec
    monkeypatch.setattr(
        runtimes.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "openvino" else real(name, *a),
    )


@pytest.fixture
def fixed_speeds(monkeypatch):
    """timing.measure replaced by set speeds; returns (speeds to edit, list of calls)."""
    speeds, calls = {}, []

    def measure(sessions, feeds=None, **_):
        calls.append(sorted(sessions))
        return {name: speeds.get(name, 100.0) for name in sessions}

    monkeypatch.setattr(timing, "measure", measure)
    return speeds, calls


def feeds(n: int = 16) -> dict[str, np.ndarray]:
    xa, xb = split_batch(make_pairs(n, seed=5)[0])
    return {"xa": xa, "xb": xb}


def test_an_absent_backend_is_skipped_with_a_reason_never_an_error(model, no_openvino, tmp_path):
    choice, session = choose_runtime(model, MEMBER_RUNTIMES, "auto", cache=tmp_path / "s.json")
    assert choice.chosen == "ort" and choice.speeds is None  # nothing left to measure
    reason = choice.skipped["openvino-fp32"]
    assert "openvino is not installed" in reason and "\n" not in reason
    assert session.run(None, feeds())[0].shape == (16,)
    with pytest.raises(ConfigError, match="openvino-fp32 cannot run .*openvino is not installed"):
        choose_runtime(model, MEMBER_RUNTIMES, "openvino-fp32")


def test_the_choice_is_measured_once_cached_and_forced(model, fixed_speeds, tmp_path, monkeypatch):
    speeds, calls = fixed_speeds
    speeds.update({"ort": 100.0, "ort-intra2": 103.0, "ort-basic": 150.0})
    cache = tmp_path / "speeds.json"
    first, _ = choose_runtime(model, FILE_RUNTIMES, "auto", feeds=feeds(), cache=cache)
    assert first.chosen == "ort-basic" and not first.cached and len(calls) == 1
    again, session = choose_runtime(model, FILE_RUNTIMES, "auto", feeds=feeds(), cache=cache)
    assert again.chosen == "ort-basic" and again.cached and len(calls) == 1
    assert again.to_dict()["options"]["optimize"] == "basic"
    assert session.run(None, feeds())[0].shape == (16,)
    forced, _ = choose_runtime(model, FILE_RUNTIMES, "ort-inter2", cache=cache)
    assert forced.chosen == "ort-inter2" and forced.mode == "ort-inter2" and len(calls) == 1
    import pairzoo.machine

    other = type("Cpu", (), {"key": lambda self: "another-cpu-kind"})()
    monkeypatch.setattr(pairzoo.machine, "this_cpu", lambda: other)
    elsewhere, _ = choose_runtime(model, FILE_RUNTIMES, "auto", feeds=feeds(), cache=cache)
    assert not elsewhere.cached and len(calls) == 2  # another CPU kind measures again
    with pytest.raises(ValueError, match="runtime 'openvino-fp32': expected one of auto, ort"):
        choose_runtime(model, FILE_RUNTIMES, "openvino-fp32")


def test_a_near_tie_keeps_onnxruntimes_defaults(model, fixed_speeds, tmp_path):
    speeds, _ = fixed_speeds
    speeds.update({"ort": 100.0, "ort-intra2": 103.0})
    choice, _ = choose_runtime(model, FILE_RUNTIMES, "auto", cache=tmp_path / "s.json")
    assert choice.chosen == "ort"


def test_a_runtime_whose_outputs_differ_is_never_chosen(model, fixed_speeds, monkeypatch, tmp_path):
    speeds, _ = fixed_speeds
    speeds.update({"ort": 100.0, "ort-basic": 500.0})
    real = runtime_choice.open_runtime

    class Off:
        def __init__(self, session):
            self.session = session

        def run(self, names, feeds):
            return [out + 0.01 for out in self.session.run(names, feeds)]

    def opened(data, runtime, what="model"):
        session = real(data, runtime, what)
        return Off(session) if runtime.name == "ort-basic" else session

    monkeypatch.setattr(runtime_choice, "open_runtime", opened)
    choice, _ = choose_runtime(model, FILE_RUNTIMES, "auto", cache=tmp_path / "s.json")
    assert choice.chosen != "ort-basic" and choice.speeds["ort-basic"] == 500.0
    assert "outputs differ from onnxruntime's by" in choice.skipped["ort-basic"]


def test_members_record_their_runtime_in_the_leaderboard_rows(tmp_path, no_openvino):
    from pairzoo.ensemble.evaluate import evaluate
    from pairzoo.ensemble.leaderboard import leaderboard_rows
    from pairzoo.ensemble.members import load_members, member_refs
    from pairzoo.ensemble.stacking import StackingParams
    from pairzoo.registry import Registry

    reg = Registry(tmp_path / "registry")
    register_tiny_models(reg, tmp_path, 2)
    members = load_members(reg, member_refs(reg, None), runtime="auto")
    x, y, _ = make_pairs(200, seed=1)
    ev = evaluate(members, x, y, params=StackingParams(n_estimators=5, folds=2))
    singles = [r for r in leaderboard_rows(ev) if r["kind"] == "single"]
    assert len(singles) == 2
    for row in singles:
        assert row["runtime"]["backend"] == "onnxruntime" and row["runtime"]["precision"] == "fp32"
        assert row["runtime"]["options"]["threads"] == 1
        assert "openvino is not installed" in row["runtime"]["skipped"]["openvino-fp32"]


@pytest.mark.parametrize("batch", [1, 7, 300])
def test_openvino_gives_onnxruntimes_logits(model, batch):
    pytest.importorskip(
        "openvino", reason="openvino is not installed (pip install 'pairzoo[openvino]')"
    )
    from pairzoo.runtime.signature import check_signatures

    ort = open_runtime(model, get_runtime("ort"))
    ov = open_runtime(model, get_runtime("openvino-fp32"))
    check_signatures(["ort", "openvino"], [ort, ov])
    f = feeds(batch)
    (want,) = ort.run(["logit"], f)
    (got,) = ov.run(["logit"], f)
    assert got.shape == (batch,)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_an_openvino_session_serves_threads_at_once(model):
    pytest.importorskip(
        "openvino", reason="openvino is not installed (pip install 'pairzoo[openvino]')"
    )
    from concurrent.futures import ThreadPoolExecutor

    ov = open_runtime(model, get_runtime("openvino-fp32"))
    batches = [feeds(n) for n in (5, 9, 13, 17)]
    alone = [ov.run(["logit"], f)[0] for f in batches]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda f: ov.run(["logit"], f)[0], batches * 3))
    for got, want in zip(together, alone * 3, strict=True):
        np.testing.assert_array_equal(got, want)


def test_openvino_leaves_its_threads_unpinned_for_pairzoos_workers(model):
    """Pinned, every one-thread member compiled onto the same core: two workers ran as one."""
    pytest.importorskip(
        "openvino", reason="openvino is not installed (pip install 'pairzoo[openvino]')"
    )
    ov = open_runtime(model, get_runtime("openvino-fp32"))
    assert ov._compiled.get_property("ENABLE_CPU_PINNING") is False


@pytest.mark.parametrize(
    "flipped, chosen", [(0, "openvino-bf16"), (2, "openvino-bf16"), (6, "ort")]
)
def test_bf16_is_gated_on_the_decisions_it_flips_on_the_datas_pairs(
    model, fixed_speeds, monkeypatch, tmp_path, flipped, chosen
):
    """1,000 pairs: 2 flips (0.2%) pass, 6 (0.6%) exceed the half point; no pairs, no bf16."""
    speeds, _ = fixed_speeds
    speeds.update({"ort": 100.0, "openvino-fp32": 90.0, "openvino-bf16": 300.0})
    real = runtime_choice.open_runtime

    class Bf16:
        """Flips the first `flipped` pairs it is given, over however many batches."""

        def __init__(self, session):
            self.session, self.seen = session, 0

        def get_outputs(self):
            return self.session.get_outputs()

        def run(self, names, feeds):
            out = [o * 1.05 for o in self.session.run(names, feeds)]  # beyond fp32 tolerance
            k = min(max(flipped - self.seen, 0), len(out[0]))
            out[0][:k] = -out[0][:k]
            self.seen += len(out[0])
            return out

    def opened(data, runtime, what="model"):
        session = real(data, get_runtime("ort"), what)
        return Bf16(session) if runtime.precision == "bf16" else session

    monkeypatch.setattr(runtime_choice, "open_runtime", opened)
    monkeypatch.setattr(runtime_choice.backends, "unavailable", lambda *a: None)
    x = make_pairs(1000, seed=9)[0]
    (ort_logits,) = real(model, get_runtime("ort")).run(
        None, dict(zip(("xa", "xb"), split_batch(x), strict=True))
    )
    x = x[np.argsort(-np.abs(ort_logits))]  # the first pairs are far from 0: negating flips them
    choice, _ = choose_runtime(
        model, MEMBER_RUNTIMES, "auto", cache=tmp_path / "s.json", gate_pairs=x
    )
    assert choice.chosen == chosen, choice.skipped
    if chosen == "ort":
        assert "flips 0.60% of 1000 decisions" in choice.skipped["openvino-bf16"]
    unpaired, _ = choose_runtime(model, MEMBER_RUNTIMES, "auto", cache=tmp_path / "s.json")
    assert unpaired.chosen == "ort"
    assert "none were given" in unpaired.skipped["openvino-bf16"]


@pytest.mark.parametrize("flipped, passes", [(2, True), (6, False)])
def test_a_one_file_ensemble_is_gated_on_its_labels_not_its_positive_probability(flipped, passes):
    from pairzoo.runtime.backends import Arg
    from pairzoo.runtime.choice import gives_outputs

    class OneFile:
        """Probability 0.9 everywhere; label 1 but for the first `flipped` pairs it is given."""

        def __init__(self, flipped):
            self.left = flipped

        def get_outputs(self):
            return [
                Arg("probability", "tensor(float)", [None]),
                Arg("label", "tensor(int64)", [None]),
            ]

        def run(self, names, feeds):
            n = len(feeds["xa"])
            label = np.ones(n, np.int64)
            label[: min(self.left, n)] = 0
            self.left = max(self.left - n, 0)
            out = {"probability": np.full(n, 0.9, np.float32), "label": label}
            return [out[name] for name in names]

    pairs = make_pairs(1000, seed=4)[0]
    reason = gives_outputs(OneFile(0), OneFile(flipped), "bf16", pairs)
    assert (reason is None) == passes, reason
    if not passes:
        assert "flips 0.60% of 1000 decisions" in reason


@pytest.mark.parametrize("verdict", [None, "val accuracy 2 points lower"])
def test_a_callers_decision_gate_replaces_the_flip_count(
    model, fixed_speeds, monkeypatch, tmp_path, verdict
):
    """The one-file export holds bf16 to val accuracy: its verdict decides, no pairs needed."""
    speeds, _ = fixed_speeds
    speeds.update({"ort": 100.0, "openvino-fp32": 90.0, "openvino-bf16": 300.0})
    real = runtime_choice.open_runtime
    judged = []

    def opened(data, runtime, what="model"):
        return real(data, get_runtime("ort"), what)

    def gate(session):
        judged.append(session)
        return verdict

    monkeypatch.setattr(runtime_choice, "open_runtime", opened)
    monkeypatch.setattr(runtime_choice.backends, "unavailable", lambda *a: None)
    choice, session = choose_runtime(
        model, MEMBER_RUNTIMES, "auto", cache=tmp_path / "s.json", decision_gate=gate
    )
    assert len(judged) == 1
    if verdict is None:
        assert choice.chosen == "openvino-bf16" and session is judged[0]
    else:
        assert choice.chosen == "ort" and choice.skipped["openvino-bf16"] == verdict


def test_a_runtime_that_fails_to_open_is_skipped_with_its_reason(
    model, fixed_speeds, monkeypatch, tmp_path
):
    """OpenVINO may report bf16 and then find no bf16 kernel (under ONEDNN_MAX_CPU_ISA=AVX2)."""
    speeds, _ = fixed_speeds
    speeds.update({"ort": 100.0, "openvino-fp32": 150.0, "openvino-bf16": 300.0})
    real = runtime_choice.open_runtime

    def opened(data, runtime, what="model"):
        if runtime.precision == "bf16":
            raise RuntimeError("Exception from plugin.cpp:54:\nno primitive for node: MaxPool\n")
        return real(data, get_runtime("ort"), what)

    monkeypatch.setattr(runtime_choice, "open_runtime", opened)
    monkeypatch.setattr(runtime_choice.backends, "unavailable", lambda *a: None)
    cache = tmp_path / "s.json"
    choice, _ = choose_runtime(model, MEMBER_RUNTIMES, "auto", feeds=feeds(), cache=cache)
    assert choice.chosen == "openvino-fp32"
    assert choice.speeds["openvino-bf16"] == 0.0
    assert choice.skipped == {
        "openvino-bf16": "failed to open here (no primitive for node: MaxPool)"
    }
    again, _ = choose_runtime(model, MEMBER_RUNTIMES, "auto", feeds=feeds(), cache=cache)
    assert again.cached and again.chosen == "openvino-fp32"  # 0 pairs/s cached: not tried again
    assert "failed to open on this CPU kind (cached)" in again.skipped["openvino-bf16"]


@pytest.fixture(scope="module")
def int8_model(tmp_path_factory) -> bytes:
    from pairzoo.exporting.quantize import quantize_onnx

    tmp = tmp_path_factory.mktemp("runtime-int8")
    src = tiny_torch_onnx(tmp / "tiny.onnx", seed=3)
    quantize_onnx(src, tmp / "int8.onnx", make_pairs(64, seed=2)[0])
    return (tmp / "int8.onnx").read_bytes()


def test_an_int8_file_outside_onnxruntime_is_held_to_decisions(
    model, int8_model, fixed_speeds, monkeypatch, tmp_path
):
    """OpenVINO requantizes activations with its own rounding: an int8 file's logits move by a
    quantization step there, so its decisions are judged, as bf16's are; fp32 keeps 1e-4."""
    from pairzoo.runtime.choice import held_to_decisions

    assert held_to_decisions(get_runtime("openvino-fp32"), int8_model)
    assert not held_to_decisions(get_runtime("ort-streams2"), int8_model)
    assert not held_to_decisions(get_runtime("openvino-fp32"), model)
    assert held_to_decisions(get_runtime("openvino-bf16"), model)

    speeds, _ = fixed_speeds
    speeds.update({"ort": 100.0, "openvino-fp32": 300.0, "openvino-bf16": 0.0})
    real = runtime_choice.open_runtime
    judged = []
    monkeypatch.setattr(
        runtime_choice, "open_runtime", lambda d, r, w="model": real(d, get_runtime("ort"), w)
    )
    monkeypatch.setattr(runtime_choice.backends, "unavailable", lambda *a: None)
    for data, judged_so_far in ((int8_model, 1), (model, 1)):
        choice, _ = choose_runtime(
            data,
            ("ort", "openvino-fp32"),
            "auto",
            cache=tmp_path / "s.json",
            decision_gate=lambda session: judged.append(session),
        )
        assert choice.chosen == "openvino-fp32"  # same outputs (really onnxruntime here)
        assert len(judged) == judged_so_far  # the fp32 file is not judged


def test_openvino_is_refused_a_file_by_its_nodes_not_its_opset_imports(int8_model, monkeypatch):
    """onnxruntime's quantizer declares ai.onnx.ml in every int8 file it writes, with no node of
    it: such a file runs in OpenVINO; one with a LightGBM-style ai.onnx.ml node does not."""
    import onnx
    from onnx import TensorProto, helper

    real = runtimes.importlib.util.find_spec
    monkeypatch.setattr(
        runtimes.importlib.util,
        "find_spec",
        lambda name, *a: object() if name == "openvino" else real(name, *a),
    )
    assert "ai.onnx.ml" in {o.domain for o in onnx.load_from_string(int8_model).opset_import}
    assert runtimes.unavailable(get_runtime("openvino-fp32"), int8_model) is None
    node = helper.make_node("Binarizer", ["x"], ["y"], domain="ai.onnx.ml")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])
    graph = helper.make_graph([node], "ml", [x], [y])
    ml = helper.make_model(graph, opset_imports=[helper.make_opsetid("ai.onnx.ml", 3)])
    reason = runtimes.unavailable(get_runtime("openvino-fp32"), ml.SerializeToString())
    assert "OpenVINO reads no ai.onnx.ml operators" in reason
