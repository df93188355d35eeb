"""Bad runs and bad registries: each gets one clear line from `pairzoo export`, never a traceback."""

import io
import json
import shutil

import pytest
import torch
from click.testing import CliRunner
from export_fixtures import EXPORT_PLUGINS, shared_data, shared_run, train_tiny

from pairzoo.cli import main
from pairzoo.plugins import load_plugins
from pairzoo.registry import Registry


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return shared_data(tmp_path_factory)


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    return shared_run(tmp_path_factory, "baseline")


@pytest.fixture
def run_copy(good_run, tmp_path):
    return shutil.copytree(good_run, tmp_path / "copy")


def export(*args):
    result = CliRunner().invoke(main, ["export", *map(str, args)])
    assert "Traceback" not in result.output
    return result


def assert_fails(result, *fragments):
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


@pytest.mark.parametrize("missing", ["model.pt", "config.json", "metrics.json"])
def test_run_dir_missing_a_file(run_copy, tmp_path, missing):
    (run_copy / missing).unlink()
    assert_fails(export(run_copy, "--registry", tmp_path / "reg"), missing, "missing")
    assert not (tmp_path / "reg" / "catalogue.json").exists()


def test_run_dir_that_does_not_exist(tmp_path):
    assert_fails(export(tmp_path / "nope", "--registry", tmp_path / "reg"), "does not exist")


def test_truncated_model(run_copy, tmp_path):
    data = (run_copy / "model.pt").read_bytes()
    (run_copy / "model.pt").write_bytes(data[: len(data) // 2])
    assert_fails(
        export(run_copy, "--registry", tmp_path / "reg"), "model.pt", "corrupted or truncated"
    )


def test_corrupted_model(run_copy, tmp_path):
    (run_copy / "model.pt").write_bytes(b"this is not a torch file at all" * 10)
    assert_fails(export(run_copy, "--registry", tmp_path / "reg"), "model.pt")


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):  # unpickling would create the marker file
        return (open, (self.marker, "w"))


def test_pickle_with_code_is_refused(run_copy, tmp_path):
    marker = tmp_path / "code-ran"
    saved = torch.load(run_copy / "model.pt", weights_only=True)
    saved["config"]["payload"] = _RunsCode(str(marker))
    buffer = io.BytesIO()
    torch.save(saved, buffer)
    (run_copy / "model.pt").write_bytes(buffer.getvalue())
    assert_fails(export(run_copy, "--registry", tmp_path / "reg"), "model.pt", "refused to load")
    assert not marker.exists()


def test_unfinished_run(run_copy, tmp_path):
    metrics = json.loads((run_copy / "metrics.json").read_text())
    (run_copy / "metrics.json").write_text(json.dumps({**metrics, "finished": False}))
    assert_fails(export(run_copy, "--registry", tmp_path / "reg"), "not finished")


def test_architecture_whose_plugin_is_gone(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PAIRZOO_PLUGINS_DIR", str(EXPORT_PLUGINS))
    load_plugins()
    run = train_tiny(tmp_path / "run", data_dir, "exp_tiny", {"width": 2})
    monkeypatch.delenv("PAIRZOO_PLUGINS_DIR")
    load_plugins()
    assert_fails(
        export(run, "--registry", tmp_path / "reg"), "'exp_tiny'", "plugin 'file:exportpair'"
    )
    result = export(run, "--registry", tmp_path / "reg", "--plugins-dir", EXPORT_PLUGINS)
    assert result.exit_code == 0, result.output  # with the plugin back, it exports
    load_plugins()


def test_validation_data_gone(good_run, tmp_path):
    assert_fails(
        export(good_run, "--registry", tmp_path / "reg", "--data", tmp_path / "nowhere"),
        "val.npz",
    )


def test_bad_name(good_run, tmp_path):
    assert_fails(
        export(good_run, "--registry", tmp_path / "reg", "--name", "a/b"), "invalid registry name"
    )


def test_corrupted_catalogue_is_left_alone(good_run, tmp_path):
    reg_dir = tmp_path / "reg"
    assert export(good_run, "--registry", reg_dir).exit_code == 0
    catalogue = reg_dir / "catalogue.json"
    catalogue.write_bytes(catalogue.read_bytes()[:40])
    before = catalogue.read_bytes()
    assert_fails(
        export(good_run, "--registry", reg_dir), "catalogue is corrupted", "nothing was changed"
    )
    assert catalogue.read_bytes() == before
    assert sorted(p.name for p in (reg_dir / "baseline").iterdir()) == ["1"]
    result = CliRunner().invoke(main, ["registry", "verify", "--registry", str(reg_dir)])
    assert result.exit_code == 1
    assert (
        "catalogue is corrupted" in result.output
        and "files checked against their own card.json" in result.output
    )
    with pytest.raises(Exception, match="catalogue is corrupted"):
        Registry(reg_dir).list()


def test_a_model_onnx_cannot_express_fails_in_one_line(data_dir, tmp_path, monkeypatch):
    from train_fixtures import PLUGINS_DIR

    # The fixture tower pools its 7x7 maps to 2x2: adaptive pooling ONNX has no operator for.
    monkeypatch.setenv("PAIRZOO_PLUGINS_DIR", str(PLUGINS_DIR))
    load_plugins()
    try:
        run = train_tiny(tmp_path / "run", data_dir, "tinypair", {})
        result = export(run, "--registry", tmp_path / "reg")
        assert_fails(result, "torch.onnx.export failed", "adaptive_avg_pool2d")
        assert "Caused by" not in result.output and not Registry(tmp_path / "reg").list()
    finally:
        monkeypatch.delenv("PAIRZOO_PLUGINS_DIR")
        load_plugins()
