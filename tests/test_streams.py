"""Streamed sessions: a batch cut into slices that run at once gives the whole batch's outputs,
in order, at every size the gates use; a too-small batch runs whole."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from ensemble_fixtures import make_pairs, tiny_torch_onnx

from pairzoo.runtime.backends import open_runtime
from pairzoo.runtime.batches import SEQUENCE, split_batch
from pairzoo.runtime.runtimes import FILE_RUNTIMES, get_runtime
from pairzoo.runtime.streams import StreamedSession


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> bytes:
    return tiny_torch_onnx(tmp_path_factory.mktemp("streams") / "tiny.onnx", seed=4).read_bytes()


def feeds(n: int) -> dict[str, np.ndarray]:
    xa, xb = split_batch(make_pairs(n, seed=6)[0])
    return {"xa": xa, "xb": xb}


class Recorder:
    """A session that returns its rows' first pixel and records which thread ran each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    def run(self, names, f):
        self.calls.append((len(f["xa"]), threading.current_thread().name))
        return [f["xa"][:, 0, 0, 0].copy(), np.arange(len(f["xa"]))]


@pytest.mark.parametrize("rows", SEQUENCE)
def test_slices_join_into_the_whole_batchs_outputs_in_order(model, rows):
    whole = open_runtime(model, get_runtime("ort"))
    streamed = open_runtime(model, get_runtime("ort-streams2"))
    assert isinstance(streamed, StreamedSession)
    f = feeds(rows)
    (want,) = whole.run(["logit"], f)
    (got,) = streamed.run(["logit"], f)
    assert got.shape == (rows,)
    np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)


def test_a_batch_runs_as_equal_slices_on_the_pools_threads():
    inner = Recorder()
    streamed = StreamedSession(inner, 2)
    f = feeds(7)
    first, index = streamed.run(None, f)
    np.testing.assert_array_equal(first, f["xa"][:, 0, 0, 0])
    np.testing.assert_array_equal(index, [0, 1, 2, 3, 0, 1, 2])  # each slice counts its own rows
    assert sorted(n for n, _ in inner.calls) == [3, 4]
    assert all(name.startswith("pairzoo-stream") for _, name in inner.calls)


def test_one_pair_runs_whole_on_the_callers_thread():
    inner = Recorder()
    StreamedSession(inner, 2).run(None, feeds(1))
    assert inner.calls == [(1, threading.current_thread().name)]


def test_one_stream_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        StreamedSession(Recorder(), 1)


def test_the_one_file_may_run_as_streams_in_either_backend():
    streamed = [n for n in FILE_RUNTIMES if get_runtime(n).streams > 1]
    assert {get_runtime(n).backend for n in streamed} == {"onnxruntime", "openvino"}
    assert all(get_runtime(n).threads == 1 for n in streamed)


def test_openvino_streams_give_onnxruntimes_logits(model):
    pytest.importorskip(
        "openvino", reason="openvino is not installed (pip install 'pairzoo[openvino]')"
    )
    ort = open_runtime(model, get_runtime("ort"))
    ov = open_runtime(model, get_runtime("openvino-fp32-streams2"))
    assert ov.session._compiled.get_property("NUM_STREAMS") == 2
    for rows in (1, 7, 300):
        f = feeds(rows)
        np.testing.assert_allclose(ov.run(["logit"], f)[0], ort.run(["logit"], f)[0], atol=1e-4)
