"""A plugin author's mistakes, through the command line: each is one line naming the plugin."""

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from plugin_mistakes import BAD_HEAD, BAD_LOSS, NO_HOOKIMPL, write_plugin, write_source

from pairzoo.cli import main
from pairzoo.plugin_check.easy_data import write_easy_data
from pairzoo.plugins import load_plugins

HOOKIMPL_MISSING = (
    "registered nothing: register_architectures is not marked @hookimpl, so pairzoo never calls "
    "it (add `from pairzoo.hookspecs import hookimpl` and decorate it)"
)


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    monkeypatch.delenv("PAIRZOO_PLUGINS_DIR", raising=False)
    monkeypatch.delenv("PAIRZOO_DEBUG", raising=False)
    yield
    load_plugins()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_easy_data(tmp_path_factory.mktemp("easy"), n_train=64, n_val=32)


def invoke(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def train(data, plugins, out, *extra, arch=None, env=None):
    arch_args = ("--arch", arch) if arch else ()
    return invoke(
        "train", *arch_args, "--plugins-dir", plugins, "--data", data, "--out", out,
        "--epochs", "1", "--batch-size", "32", "--no-progress", "--threads", "1", *extra,
        env=env,
    )  # fmt: skip


def error_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    return line


def test_output_of_shape_n1_is_one_line_and_writes_nothing(tmp_path, data):
    path = write_plugin(tmp_path / "p", "shape_mlp")
    result = train(data, tmp_path / "p", tmp_path / "run", arch="shape_mlp")
    assert error_line(result) == (
        f"Error: architecture 'shape_mlp' (file:shape_mlp, {path}): forward(xa, xb) returned "
        "shape (2, 1) for 2 pairs, expected shape (2,): one logit per pair"
    )
    assert not (tmp_path / "run").exists()


def test_squeeze_wrong_only_at_batch_1_is_caught_before_training(tmp_path, data):
    path = write_plugin(tmp_path / "p", "squeezer")
    result = train(data, tmp_path / "p", tmp_path / "run", arch="squeezer")
    assert error_line(result) == (
        f"Error: architecture 'squeezer' (file:squeezer, {path}): forward(xa, xb) returned "
        "shape () for 1 pair, expected shape (1,): one logit per pair"
    )


def test_false_antisymmetry_is_named(tmp_path, data):
    path = write_plugin(tmp_path / "p", "liar")
    line = error_line(train(data, tmp_path / "p", tmp_path / "run", arch="liar"))
    assert line.startswith(
        f"Error: architecture 'liar' (file:liar, {path}): declares itself antisymmetric, but "
        "f(a, b) + f(b, a) is "
    )
    assert line.endswith("expected 0 (within 0.0001): swapping the images must negate the logit")


def test_head_and_loss_contracts(tmp_path, data):
    plugins = tmp_path / "p"
    head = write_source(plugins, "widehead", BAD_HEAD)
    loss = write_source(plugins, "unreduced", BAD_LOSS)
    result = train(data, plugins, tmp_path / "a", "--heads", "wide", arch="baseline")
    assert error_line(result) == (
        f"Error: fusion head 'wide' (file:widehead, {head}): forward(ea, eb) returned shape (2, 1) "
        "for 2 pairs, expected shape (2,): one logit per pair"
    )
    result = train(data, plugins, tmp_path / "b", "--loss", "unreduced", arch="baseline")
    assert error_line(result) == (
        f"Error: loss 'unreduced' (file:unreduced, {loss}): forward(logits, targets) returned "
        "shape (4,) for 4 logits, expected a scalar tensor, shape ()"
    )
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_hook_without_hookimpl_is_listed_and_named_when_asked_for(tmp_path, data):
    write_source(tmp_path / "p", "nomark", NO_HOOKIMPL)
    listing = invoke("plugins", "--plugins-dir", tmp_path / "p")
    assert listing.exit_code == 0
    assert (
        f"file:nomark unknown (file {tmp_path / 'p' / 'nomark.py'})\n  WARNING: {HOOKIMPL_MISSING}\n"
        in listing.output
    )
    line = error_line(train(data, tmp_path / "p", tmp_path / "run", arch="nomark"))
    assert line.startswith("Error: unknown architecture 'nomark' (available: baseline, ")
    assert line.endswith(f"; plugin 'file:nomark' {HOOKIMPL_MISSING}")


def test_strict_fails_on_a_plugin_that_registers_nothing_or_is_broken(tmp_path):
    assert invoke("plugins", "--strict").exit_code == 0
    write_source(tmp_path / "idle", "nomark", NO_HOOKIMPL)
    result = invoke("plugins", "--strict", "--plugins-dir", tmp_path / "idle")
    assert error_line(result) == (
        "Error: --strict: 1 plugin(s) broken or registering nothing: file:nomark"
    )
    write_source(tmp_path / "broken", "typo", "from pairzoo.hookspecs import hookimpl\n\n"
                 "@hookimpl\ndef register_architecture(register):\n    pass\n")  # fmt: skip
    result = invoke("plugins", "--strict", "--plugins-dir", tmp_path / "broken")
    assert (
        "  BROKEN: PluginError: unknown hook register_architecture (known hooks: " in result.output
    )
    assert (
        error_line(result)
        == "Error: --strict: 1 plugin(s) broken or registering nothing: file:typo"
    )


def test_factory_name_error_is_one_line_and_debug_shows_the_traceback(tmp_path, data):
    path = write_plugin(tmp_path / "p", "boom")
    expected = (
        f"Error: architecture 'boom' (file:boom, {path}): NameError: name 'undefined_thing' is "
        "not defined"
    )
    assert error_line(train(data, tmp_path / "p", tmp_path / "run", arch="boom")) == expected
    for args, env in ((["--debug"], None), ([], {"PAIRZOO_DEBUG": "1"})):
        args = [*args, "train", "--arch", "boom", "--plugins-dir", tmp_path / "p", "--data", data]
        result = invoke(*args, "--out", tmp_path / "run", env=env)
        assert result.exit_code == 1
        assert "Traceback (most recent call last)" in result.output
        assert f'File "{path}", line 16, in M' in result.output
        assert result.output.rstrip().splitlines()[-1] == expected


def test_failure_in_the_first_epoch_leaves_nothing_and_the_same_command_runs_again(tmp_path, data):
    path = write_plugin(tmp_path / "p", "trainboom")
    out = tmp_path / "run"
    expected = (
        f"Error: architecture 'trainboom' (file:trainboom, {path}): NameError: name "
        "'not_defined_in_training' is not defined"
    )
    assert error_line(train(data, tmp_path / "p", out, arch="trainboom")) == expected
    assert not out.exists()
    out.mkdir()  # a folder the user made stays, empty
    assert error_line(train(data, tmp_path / "p", out, arch="trainboom")) == expected
    assert list(out.iterdir()) == []


def test_parity_refusal_puts_its_cause_first_without_onnxruntime_noise(tmp_path, data):
    write_plugin(tmp_path / "p", "squeeze_trap")
    run = tmp_path / "run"
    assert train(data, tmp_path / "p", run, arch="squeeze_trap").exit_code == 0
    env = {k: v for k, v in os.environ.items() if k != "PAIRZOO_PLUGINS_DIR"}
    done = subprocess.run(
        [sys.executable, "-m", "pairzoo", "export", str(run), "--registry", str(tmp_path / "reg"),
         "--plugins-dir", str(tmp_path / "p")],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("Error: "))
    assert lines[first] == (
        f"Error: {run}: parity gate failed, nothing was registered: batch 1: output float32 (), "
        "expected float32 (1,)"
    )
    assert lines[first + 1].startswith("  max |onnx - torch| batch 1: ")
    assert "onnxruntime" not in "\n".join(lines[:first])
    assert "Traceback" not in done.stderr
