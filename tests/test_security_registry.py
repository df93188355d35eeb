"""Registry contents from others are checked before use: a tampered ONNX file or card, an ONNX
file that reads files outside itself, or a card whose file names leave the entry is refused on
every loading path, with a message naming the file, and never reaches onnxruntime."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from ensemble_fixtures import make_data_dir
from registry_fixtures import register_tiny, tiny_onnx
from security_fixtures import edit_card, entry_dir, flip_byte, onnx_with_external_data, sha256

from pairzoo.cli import main
from pairzoo.errors import RegistryError
from pairzoo.registry import Registry

VICTIM = "m0@1"  # a model entry, and a member of the ensemble "stack@1"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """Two model entries and an ensemble of them, built once; tests work on copies."""
    from pairzoo.ensemble.pipeline import run_ensemble_eval
    from pairzoo.ensemble.settings import EvalSettings
    from pairzoo.ensemble.stacking import StackingParams

    tmp = tmp_path_factory.mktemp("security-registry")
    reg = Registry(tmp / "registry")
    register_tiny(reg, tmp, name="m0", scale=10.0)
    register_tiny(reg, tmp, name="m1", scale=3.0)
    data = make_data_dir(tmp / "data", n_val=80, n_test=40)
    params = StackingParams(n_estimators=5, folds=2, min_child_samples=2)
    run_ensemble_eval(reg, EvalSettings(data, tmp / "report", params=params, name="stack"))
    return tmp


@dataclass
class Env:
    root: Path  # the registry copy, about to be tampered with
    data: Path
    tmp: Path


@pytest.fixture
def env(pristine, tmp_path):
    shutil.copytree(pristine / "registry", tmp_path / "registry")
    return Env(tmp_path / "registry", pristine / "data", tmp_path)


@pytest.fixture
def onnxruntime_spy(monkeypatch):
    """sha256 of every model (bytes or file) handed to onnxruntime.InferenceSession."""
    import onnxruntime

    seen: list[str] = []
    real = onnxruntime.InferenceSession

    def spy(model, *args, **kwargs):
        seen.append(sha256(model if isinstance(model, bytes) else Path(model).read_bytes()))
        return real(model, *args, **kwargs)

    monkeypatch.setattr(onnxruntime, "InferenceSession", spy)
    return seen


# ---- tampering: each returns the bytes that must never reach onnxruntime, the words of the
# refusal, and whether the entry was forged consistently (card and catalogue rewritten to match)


def _victim_onnx(e: Env) -> Path:
    return entry_dir(e.root, VICTIM) / "model.onnx"


def onnx_byte_flipped(e: Env):
    flip_byte(_victim_onnx(e))
    return [_victim_onnx(e).read_bytes()], [str(_victim_onnx(e)), "sha256", "does not match"], False


def onnx_replaced_by_another_model(e: Env):
    tiny_onnx(_victim_onnx(e), scale=-10.0)  # valid, same signature, opposite decisions
    return [_victim_onnx(e).read_bytes()], [str(_victim_onnx(e)), "sha256", "does not match"], False


def _card_refusal(e: Env) -> list[str]:
    return [str(entry_dir(e.root, VICTIM) / "card.json"), "card sha256", "catalogue"]


def card_metrics_edited(e: Env):
    edit_card(e.root, VICTIM, lambda c: c["metrics"].update(val={"accuracy": 0.99}))
    return [_victim_onnx(e).read_bytes()], _card_refusal(e), False


def card_hash_edited_to_a_replaced_model(e: Env):
    tiny_onnx(_victim_onnx(e), scale=-10.0)
    new = _victim_onnx(e).read_bytes()
    edit_card(e.root, VICTIM, lambda c: c["files"]["model.onnx"].update(sha256=sha256(new)))
    return [new], _card_refusal(e), False


def card_name_edited(e: Env):
    edit_card(e.root, VICTIM, lambda c: c.update(name="m1"))
    return [_victim_onnx(e).read_bytes()], _card_refusal(e), False


def _forged_model(e: Env, onnx_file: Path, arcname: str = "model.onnx", extra=None):
    """Replace the victim's ONNX and rewrite card and catalogue to match: a consistent entry, as
    someone handing over a whole registry directory could make it."""
    data = onnx_file.read_bytes()
    files = {arcname: {"sha256": sha256(data), "bytes": len(data)}, **(extra or {})}
    edit_card(e.root, VICTIM, lambda c: c.update(onnx=arcname, files=files), forge_catalogue=True)
    return data


def _external(location: str, inside: bool = False):
    def tamper(e: Env):
        onnx_file = onnx_with_external_data(e.tmp / "external.onnx", location)
        shutil.copy(onnx_file, _victim_onnx(e))
        extra = None
        if inside:  # the data file sits in the entry and is listed (and hashed) in the card
            blob = entry_dir(e.root, VICTIM) / location
            blob.write_bytes(b"\0\0\x80\x3f")
            extra = {location: {"sha256": sha256(blob.read_bytes()), "bytes": 4}}
        data = _forged_model(e, onnx_file, extra=extra)
        return [data], [str(_victim_onnx(e)), "external data", location], True

    return tamper


def _card_file_outside(arcname_of):
    def tamper(e: Env):
        outside = tiny_onnx(e.tmp / "outside.onnx", scale=-10.0)  # beside the registry
        data = _forged_model(e, outside, arcname_of(e, outside))
        return [data], ["invalid file name", arcname_of(e, outside)], False

    return tamper


TAMPERS = {
    "onnx byte flipped": onnx_byte_flipped,
    "onnx replaced by another valid model": onnx_replaced_by_another_model,
    "card metrics edited": card_metrics_edited,
    "card file hash edited": card_hash_edited_to_a_replaced_model,
    "card name edited": card_name_edited,
    "external data ../../etc/passwd": _external("../../../../../../etc/passwd"),
    "external data /etc/passwd": _external("/etc/passwd"),
    "external data inside the entry": _external("weights.bin", inside=True),
    "card file name ../": _card_file_outside(lambda e, p: "../../../outside.onnx"),
    "card file name absolute": _card_file_outside(lambda e, p: str(p.resolve())),
}


# ---- loading paths: each returns (exit code, output); a new path is one line -------------------


def cli(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def api(call):
    def take(e: Env):
        try:
            call(e)
        except RegistryError as exc:
            return 1, f"Error: {exc}"
        return 0, "loaded"

    return take


def _load_members(e: Env):
    from pairzoo.ensemble.members import load_members

    load_members(Registry(e.root), [VICTIM, "m1"])


def _load_ensemble(e: Env):
    from pairzoo.ensemble.members import load_ensemble

    load_ensemble(Registry(e.root), "stack")


def _predict(e: Env, *which):
    out = e.tmp / "pred.csv"
    return cli(
        "predict", *which, "--data", e.data / "test_public.npz", "--out", out, "--registry", e.root
    )


def _read_file(e: Env):  # what ensemble export and int8 quantization read members with
    reg = Registry(e.root)
    reg.read_file(reg.resolve(VICTIM))


PATHS = {
    "Registry.open_session": api(lambda e: Registry(e.root).open_session(VICTIM)),
    "Registry.read_file": api(_read_file),
    "members.load_members": api(_load_members),
    "members.load_ensemble": api(_load_ensemble),
    "registry load": lambda e: cli("registry", "load", VICTIM, "--registry", e.root),
    "predict --model": lambda e: _predict(e, "--model", VICTIM),
    "predict --ensemble": lambda e: _predict(e, "--ensemble", "stack"),
    "eval --ensemble --models": lambda e: cli(
        "eval",
        "--ensemble",
        "--models",
        f"{VICTIM},m1",
        "--registry",
        e.root,
        "--data",
        e.data,
        "--out",
        e.tmp / "report",
        "--no-register",
        "--folds",
        2,
        "--trees",
        5,
    ),  # fmt: skip
    "export --ensemble": lambda e: cli(
        "export",
        "--ensemble",
        "stack",
        "--registry",
        e.root,
        "--data",
        e.data,
        "--out",
        e.tmp / "stack.onnx",
    ),  # fmt: skip
}


ENSEMBLE_PATHS = ("members.load_ensemble", "predict --ensemble", "export --ensemble")


@pytest.mark.parametrize("tamper", list(TAMPERS))
@pytest.mark.parametrize("path", list(PATHS))
def test_tampered_entry_is_refused_before_onnxruntime(env, path, tamper, onnxruntime_spy):
    hostile, words, forged = TAMPERS[tamper](env)
    if forged and path in ENSEMBLE_PATHS:  # the ensemble's card holds each member's sha256
        words = [str(_victim_onnx(env)), "the ensemble was built with"]
    code, output = PATHS[path](env)
    assert code == 1, output
    assert output.startswith("Error: ") and len(output.strip().splitlines()) == 1, output
    for word in words:
        assert word in output, f"{word!r} missing from: {output}"
    assert not {sha256(data) for data in hostile} & set(onnxruntime_spy)
    assert not (env.tmp / "pred.csv").exists() and not (env.tmp / "stack.onnx").exists()


@pytest.mark.parametrize("path", list(PATHS))
def test_untouched_entries_load_on_every_path(env, path, onnxruntime_spy):
    """The refusals come from the tampering, not from paths that refuse everything."""
    code, output = PATHS[path](env)
    assert code == 0, output
    if path != "Registry.read_file":  # the one path that opens no session
        assert sha256(_victim_onnx(env).read_bytes()) in onnxruntime_spy


@pytest.mark.parametrize(
    "tamper", [t for t in TAMPERS if not t.startswith("card") or "file name" in t]
)
def test_verify_reports_every_tampering_it_can_see(env, tamper):
    """Everything but a forger's consistent card edits: see SECURITY.md."""
    TAMPERS[tamper](env)
    code, output = cli("registry", "verify", "--registry", env.root)
    assert code == 1, output
    assert str(entry_dir(env.root, VICTIM)) in output, output


@pytest.mark.parametrize("show", [("registry", "show", VICTIM), ("registry", "ls")])
def test_card_edits_are_refused_when_listing_or_showing(env, show):
    card_metrics_edited(env)
    code, output = cli(*show, "--registry", env.root)
    assert code == 1 and "card sha256" in output and "0.99" not in output, output


def test_catalogue_row_whose_name_leaves_the_registry_is_refused(env):
    """A catalogue row's dir is NAME/VERSION, so a name with '/' and '..' would read elsewhere."""
    outside = env.tmp / "elsewhere" / "1"
    shutil.copytree(entry_dir(env.root, VICTIM), outside)
    cat = json.loads((env.root / "catalogue.json").read_text())
    name = "m0/../../elsewhere"
    cat["entries"].append({**cat["entries"][0], "name": name, "dir": f"{name}/1"})
    (env.root / "catalogue.json").write_text(json.dumps(cat))
    code, output = cli("registry", "ls", "--registry", env.root)
    assert code == 1 and "registry name" in output, output
    code, output = cli("registry", "verify", "--registry", env.root)
    assert code == 1 and "registry name" in output, output


def test_terminal_control_characters_in_a_forged_card_are_printed_escaped(env):
    """A consistent forgery passes the hashes, but its text cannot drive the terminal."""
    evil = "tiny\x1b]0;owned\x07\x1b[2J"
    edit_card(
        env.root,
        VICTIM,
        lambda c: c.update(architecture={"name": evil, "plugin": evil}, kind="model\x1b[31m"),
        forge_catalogue=True,
    )
    for args in (("registry", "show", VICTIM), ("registry", "ls")):
        code, output = cli(*args, "--registry", env.root)
        assert code == 0, output
        assert "\x1b" not in output and "\x07" not in output, output
        assert "tiny\\x1b]0;owned\\x07" in output, output
