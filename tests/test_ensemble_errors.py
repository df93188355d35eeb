"""Bad input to the ensemble: each case is one clear message."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from ensemble_fixtures import make_data_dir, make_pairs, register_tiny_models, tiny_torch_onnx
from onnx import TensorProto, helper

from pairzoo.data.format import save_split
from pairzoo.ensemble.members import load_ensemble, load_members, member_refs
from pairzoo.ensemble.pipeline import run_ensemble_eval
from pairzoo.ensemble.settings import EvalSettings
from pairzoo.errors import DataError, RegistryError
from pairzoo.registry import Registry


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ensemble_errors")
    reg = Registry(tmp / "registry")
    register_tiny_models(reg, tmp, 2)
    return reg, make_data_dir(tmp / "data", n_val=120, n_test=20), tmp


def test_empty_registry(tmp_path):
    with pytest.raises(
        RegistryError, match="has no model entries; add some with `pairzoo export RUN`"
    ):
        run_ensemble_eval(Registry(tmp_path / "reg"), EvalSettings(tmp_path, tmp_path / "out"))
    with pytest.raises(RegistryError, match="has no ensemble entries"):
        load_ensemble(Registry(tmp_path / "reg"), None)


def test_member_whose_file_no_longer_matches_its_hash(tmp_path):
    reg = Registry(tmp_path / "registry")
    (card,) = register_tiny_models(reg, tmp_path, 1)
    path = reg.file_path(card)
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(RegistryError, match="does not match the card's"):
        load_members(reg, ["tiny0"])


def test_ensemble_member_hash_differs_from_the_recorded_one(setup):
    reg, _, tmp = setup
    (tmp / "meta.txt").write_text("tree\n")
    members = [{"name": "tiny0", "version": 1, "sha256": "0" * 64}]
    reg.add_entry(
        "forged",
        "ensemble",
        {"meta_learner.txt": tmp / "meta.txt"},
        {"members": members, "meta_learner": "meta_learner.txt"},
    )
    with pytest.raises(
        RegistryError,
        match=r"member tiny0@1: ONNX sha256 is .*, the ensemble was built with 000000000000…; the member changed",
    ):
        load_ensemble(reg, "forged")


def wide_model(path):
    """A pair model on 32x32 images: a different input signature."""
    pair = ["N", 1, 32, 32]
    graph = helper.make_graph(
        [
            helper.make_node("Sub", ["xa", "xb"], ["d"]),
            helper.make_node("ReduceMean", ["d"], ["logit"], axes=[1, 2, 3], keepdims=0),
        ],
        "wide",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, pair) for n in ("xa", "xb")],
        [helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["N"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_members_with_different_input_signatures(setup):
    reg, _, tmp = setup
    reg.add_entry(
        "wide", "model", {"model.onnx": wide_model(tmp / "wide.onnx")}, {"onnx": "model.onnx"}
    )
    with pytest.raises(
        RegistryError,
        match=r"members have different input signatures: tiny0@1 takes .*28, 28.*, wide@1 takes .*32, 32",
    ):
        load_members(reg, ["tiny0", "wide"])


def test_member_with_other_input_names(tmp_path):
    reg = Registry(tmp_path / "registry")
    src = tiny_torch_onnx(tmp_path / "m.onnx", seed=0)
    model = onnx.load(src)
    for node in model.graph.node:
        node.input[:] = ["left" if i == "xa" else i for i in node.input]
    model.graph.input[0].name = "left"
    onnx.save(model, tmp_path / "left.onnx")
    reg.add_entry("left", "model", {"model.onnx": tmp_path / "left.onnx"}, {"onnx": "model.onnx"})
    with pytest.raises(
        RegistryError, match=r"member left@1 takes inputs \['left', 'xb'\], expected \['xa', 'xb'\]"
    ):
        load_members(reg, ["left"])


def test_val_without_labels(setup, tmp_path):
    reg, _, _ = setup
    x, _, _ = make_pairs(50, seed=3)
    save_split(tmp_path / "val.npz", x, np.array([f"V{i}" for i in range(50)]))
    with pytest.raises(DataError, match="key 'y' is missing"):
        run_ensemble_eval(reg, EvalSettings(tmp_path, tmp_path / "out", models=["tiny0", "tiny1"]))


def test_fewer_pairs_than_folds(setup, tmp_path):
    reg, _, _ = setup
    x, y, _ = make_pairs(4, seed=3)
    save_split(
        tmp_path / "val.npz", x, np.array([f"V{i}" for i in range(4)]), y=np.array([0, 1, 0, 1])
    )
    with pytest.raises(
        DataError,
        match="val has 4 pairs .*5-fold stratified cross-validation needs at least 5 pairs of each label",
    ):
        run_ensemble_eval(reg, EvalSettings(tmp_path, tmp_path / "out", models=["tiny0", "tiny1"]))


def test_ensemble_entry_is_not_a_member(setup):
    reg, data, tmp = setup
    run = run_ensemble_eval(
        reg, EvalSettings(data, tmp / "out", models=["tiny0", "tiny1"], name="pair")
    )
    assert run.card["members"][0]["name"] == "tiny0"
    with pytest.raises(
        RegistryError,
        match="pair@1 is an entry of kind 'ensemble'; ensemble members must be models",
    ):
        load_members(reg, ["tiny0", "pair"])
    with pytest.raises(RegistryError, match="listed twice"):
        member_refs(reg, ["tiny0", "tiny0"])
