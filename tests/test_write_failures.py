"""A write that fails (read-only file system, permission denied, disk full) says which file and
what failed in one line, exits 1, and leaves what was there before byte for byte, without temp
files. The machine runs as root, so failures are injected into os.open / os.replace / write."""

import errno
import os
import shutil

import pytest
from click.testing import CliRunner
from crash_fixtures import (
    comparable_history,
    comparable_metrics,
    fail_io,
    snapshot,
    temp_files,
    train_args,
    weights,
)
from export_fixtures import shared_run
from registry_fixtures import register_tiny, tiny_onnx
from train_fixtures import make_data

from pairzoo.atomic import WriteError
from pairzoo.cli import main
from pairzoo.errors import RegistryError
from pairzoo.plugins import load_plugins
from pairzoo.registry import Registry, store

# errno -> the step it breaks: the temp file cannot be created, renamed, or written
CASES = [
    pytest.param(errno.EROFS, "open", id="EROFS-open"),
    pytest.param(errno.EACCES, "replace", id="EACCES-replace"),
    pytest.param(errno.ENOSPC, "write", id="ENOSPC-write"),
]


def _pattern(op, name):
    """What `op` sees of an atomic write of `name`: its temp file, or the final name."""
    return f"*/{name}" if op == "replace" else f"*/.{name}.*.tmp"


def _one_line_error(result, path, code):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert str(path) in lines[0] and os.strerror(code) in lines[0], lines[0]


def _landed(monkeypatch, names):
    """Record the bytes of every file in `names` each time an atomic write of it lands."""
    seen, real = {}, os.replace

    def recording(src, dst, *args, **kwargs):
        real(src, dst, *args, **kwargs)
        if os.path.basename(dst) in names:
            seen[os.path.basename(dst)] = open(dst, "rb").read()  # noqa: SIM115

    monkeypatch.setattr(os, "replace", recording)
    return seen


# ---- a training checkpoint ----------------------------------------------------------------


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_data(tmp_path_factory.mktemp("wf-data"), n_train=128, n_val=64, n_test=32)


def _train(data, out, *extra):
    result = CliRunner().invoke(main, train_args(data, out, 2, 0.0, *extra))
    load_plugins(None)
    return result


@pytest.fixture(scope="module")
def straight(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("wf-straight") / "run"
    assert _train(data, out).exit_code == 0
    return out


@pytest.mark.parametrize(("code", "op"), CASES)
def test_failed_checkpoint_write_keeps_the_last_one_and_resumes(
    data, straight, tmp_path, monkeypatch, code, op
):
    out = tmp_path / "run"
    landed = _landed(monkeypatch, {"last.pt"})
    failed = fail_io(monkeypatch, code, op, _pattern(op, "last.pt"), nth=2)  # epoch 2's
    result = _train(data, out)
    monkeypatch.undo()
    assert failed
    _one_line_error(result, out / "last.pt", code)
    assert (out / "last.pt").read_bytes() == landed["last.pt"]  # epoch 1's, whole
    assert temp_files(out) == []

    assert _train(data, out, "--resume").exit_code == 0
    assert comparable_metrics(out / "metrics.json") == comparable_metrics(straight / "metrics.json")
    assert comparable_history(out / "history.json") == comparable_history(straight / "history.json")
    got, want = weights(out / "model.pt"), weights(straight / "model.pt")
    assert all((got[k] == want[k]).all() for k in want)


# ---- a registry entry ----------------------------------------------------------------------


@pytest.mark.parametrize(("code", "op"), CASES)
def test_failed_catalogue_write_changes_no_listing(tmp_path, monkeypatch, code, op):
    reg = Registry(tmp_path / "reg")
    register_tiny(reg, tmp_path)
    before = (reg.root / "catalogue.json").read_bytes()
    src = tiny_onnx(tmp_path / "new.onnx", 3.0)
    fail_io(monkeypatch, code, op, _pattern(op, "catalogue.json"))
    with pytest.raises(RegistryError) as info:
        reg.add_entry("new", "model", {"model.onnx": src}, {"onnx": "model.onnx"})
    monkeypatch.undo()
    message = str(info.value)
    assert "catalogue.json" in message and os.strerror(code) in message and "\n" not in message
    assert isinstance(info.value, OSError) and info.value.errno == code
    assert (reg.root / "catalogue.json").read_bytes() == before
    assert [(c["name"], c["version"]) for c in reg.list()] == [("tiny", 1)]
    assert temp_files(reg.root) == []
    # the entry dir renamed before the catalogue failed: unlisted, named, cleared by a retry
    assert [(p.kind, p.path) for p in reg.verify().problems] == [
        ("orphaned", str(reg.root / "new" / "1"))
    ]
    card = reg.add_entry("new", "model", {"model.onnx": src}, {"onnx": "model.onnx"})
    assert card["version"] == 2 and reg.verify().ok  # number 1 is retired, not reused


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.ENOSPC])
def test_failed_staging_copy_leaves_the_registry_byte_identical(tmp_path, monkeypatch, code):
    reg = Registry(tmp_path / "reg")
    register_tiny(reg, tmp_path)
    before = snapshot(reg.root)
    src = tiny_onnx(tmp_path / "new.onnx", 3.0)
    fail_io(monkeypatch, code, "write", "*/.staging/*", modules=[store])
    with pytest.raises(RegistryError) as info:
        reg.add_entry("new", "model", {"model.onnx": src}, {"onnx": "model.onnx"})
    monkeypatch.undo()
    assert str(src) in str(info.value) and os.strerror(code) in str(info.value)
    assert snapshot(reg.root) == before
    assert reg.verify().ok


# ---- a data set ----------------------------------------------------------------------------

_SIZES = ["--n-train", "20", "--n-val", "10", "--n-public", "10", "--n-private", "10"]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    out = tmp_path_factory.mktemp("wf-made") / "data"
    result = CliRunner().invoke(main, ["data", "make", "--out", str(out), "--seed", "1", *_SIZES])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize(("code", "op"), CASES)
def test_failed_data_make_leaves_the_previous_data(made, tmp_path, monkeypatch, code, op):
    out = tmp_path / "data"
    shutil.copytree(made, out)
    before = snapshot(out)
    fail_io(monkeypatch, code, op, _pattern(op, "train.npz"))  # the first file written
    args = ["data", "make", "--out", str(out), "--seed", "2", *_SIZES]
    result = CliRunner().invoke(main, args)
    monkeypatch.undo()
    _one_line_error(result, out / "train.npz", code)
    assert snapshot(out) == before


@pytest.mark.parametrize(("code", "op"), CASES)
def test_data_make_failing_on_its_last_file_leaves_the_previous_data(
    made, tmp_path, monkeypatch, code, op
):
    out = tmp_path / "data"
    shutil.copytree(made, out)
    before = snapshot(out)
    fail_io(monkeypatch, code, op, _pattern(op, "test_private.npz"))
    args = ["data", "make", "--out", str(out), "--seed", "2", *_SIZES]
    result = CliRunner().invoke(main, args)
    monkeypatch.undo()
    assert result.exit_code == 1 and "Traceback" not in result.output
    last = result.output.strip().splitlines()[-1]  # after the progress lines of the splits made
    assert last.startswith("Error: ") and str(out / "test_private.npz") in last
    assert os.strerror(code) in last
    assert snapshot(out) == before  # the splits already made were staged, never swapped in


def test_data_make_failing_mid_swap_leaves_no_meta_and_makes_again(made, tmp_path, monkeypatch):
    out = tmp_path / "data"
    shutil.copytree(made, out)
    # The second replace onto val.npz is the swap (the first is the staged file's own write).
    fail_io(monkeypatch, errno.EIO, "replace", "*/val.npz", nth=2)
    args = ["data", "make", "--out", str(out), "--seed", "2", *_SIZES]
    result = CliRunner().invoke(main, args)
    monkeypatch.undo()
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert not (out / "meta.json").exists()  # a mixed data set is never taken for a whole one
    hidden = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert hidden == [".data-make-unfinished"]  # no staging left; the marker says whose it is
    check = CliRunner().invoke(main, ["data", "check", str(out)])
    assert "meta.json: absent" in check.output  # and `make data` makes it again
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    assert CliRunner().invoke(main, ["data", "check", str(out)]).exit_code == 0


# ---- an export -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return shared_run(tmp_path_factory, "baseline")


EXPORT_CASES = [  # (errno, op, pattern, the path the message names)
    pytest.param(errno.EROFS, "open", "*/.catalogue.json.*.tmp", "catalogue.json", id="EROFS"),
    pytest.param(errno.EACCES, "rename", "*/reg/baseline/1", "baseline/1", id="EACCES"),
    pytest.param(errno.ENOSPC, "write", "*/.staging/*/model.onnx", "model.onnx", id="ENOSPC"),
]


@pytest.mark.parametrize(("code", "op", "pattern", "named"), EXPORT_CASES)
def test_failed_export_registers_nothing(run, tmp_path, monkeypatch, code, op, pattern, named):
    reg = Registry(tmp_path / "reg")
    register_tiny(reg, tmp_path)
    before = (reg.root / "catalogue.json").read_bytes()
    failed = fail_io(monkeypatch, code, op, pattern, modules=[store])
    result = CliRunner().invoke(main, ["export", str(run), "--registry", str(reg.root)])
    monkeypatch.undo()
    assert failed
    _one_line_error(result, named, code)
    assert "nothing was registered" in result.output
    assert (reg.root / "catalogue.json").read_bytes() == before
    assert [(c["name"], c["version"]) for c in reg.list()] == [("tiny", 1)]
    assert temp_files(reg.root) == []
    assert {p.kind for p in reg.verify().problems} <= {"orphaned"}  # after a renamed entry dir

    again = CliRunner().invoke(main, ["export", str(run), "--registry", str(reg.root)])
    assert again.exit_code == 0, again.output
    assert reg.verify().ok


def test_a_file_system_error_no_command_handles_is_still_one_line(run, tmp_path, monkeypatch):
    # the export's scratch dir (outside the registry) cannot be made: a bare OSError
    fail_io(monkeypatch, errno.EROFS, "mkdir", "*/pairzoo-export-*")
    result = CliRunner().invoke(main, ["export", str(run), "--registry", str(tmp_path / "reg")])
    monkeypatch.undo()
    _one_line_error(result, "pairzoo-export-", errno.EROFS)
    assert not (tmp_path / "reg" / "catalogue.json").exists()


def test_write_error_is_a_pairzoo_error_and_an_os_error(tmp_path, monkeypatch):
    from pairzoo.atomic import write_text

    write_text(tmp_path / "f.txt", "old")
    fail_io(monkeypatch, errno.ENOSPC, "write", "*/.f.txt.*.tmp")
    with pytest.raises(WriteError) as info:
        write_text(tmp_path / "f.txt", "new")
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "f.txt")
    assert "writing the temporary file failed" in str(info.value)
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]
    assert (tmp_path / "f.txt").read_text() == "old"
