"""The root group is the one place a PairzooError becomes a message: one line (or the message's
own lines), control characters escaped, exit code 1, the traceback only with --debug."""

from click.testing import CliRunner

from pairzoo.cli import main
from pairzoo.errors import DataError


def test_a_data_command_error_is_printed_escaped():
    result = CliRunner().invoke(main, ["data", "check", "no\x1b[2Jsuch.npz"])
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "no\\x1b[2Jsuch.npz" in result.output
    assert "Traceback" not in result.output


def test_a_message_keeps_its_own_lines_and_the_traceback_needs_debug(monkeypatch):
    def broken(path):
        raise DataError(f"{path}: first line\x07\n  second line")

    monkeypatch.setattr("pairzoo.data.check.check_path", broken)
    result = CliRunner().invoke(main, ["data", "check", "x.npz"])
    assert result.exit_code == 1
    assert result.output == "Error: x.npz: first line\\x07\n  second line\n"
    result = CliRunner().invoke(main, ["--debug", "data", "check", "x.npz"])
    assert result.exit_code == 1 and "Traceback" in result.output and "in broken" in result.output
