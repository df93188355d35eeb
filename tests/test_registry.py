import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from registry_fixtures import register_tiny, tiny_onnx

from pairzoo import atomic
from pairzoo.cli import main
from pairzoo.errors import RegistryError
from pairzoo.registry import Registry, default_registry_dir
from pairzoo.registry.card import sha256_file
from pairzoo.runtime import providers


@pytest.fixture
def reg(tmp_path):
    return Registry(tmp_path / "reg")


def cli(*args):
    return CliRunner().invoke(main, ["registry", *map(str, args)])


def test_versions_count_up_and_cards_record_hashes(reg, tmp_path):
    first = register_tiny(reg, tmp_path, scale=1.0)
    second = register_tiny(reg, tmp_path, scale=2.0)
    assert (first["version"], second["version"]) == (1, 2)
    onnx_path = reg.file_path(second)
    assert onnx_path == reg.root / "tiny" / "2" / "model.onnx"
    assert second["files"]["model.onnx"]["sha256"] == sha256_file(onnx_path)
    assert second["files"]["model.onnx"]["bytes"] == onnx_path.stat().st_size
    assert reg.resolve("tiny")["version"] == 2
    assert reg.resolve("tiny@1")["architecture"]["params"] == {"scale": 1.0}
    assert [c["version"] for c in reg.list(kind="model")] == [1, 2]
    assert reg.list(kind="ensemble") == []
    cat = json.loads((reg.root / "catalogue.json").read_text())
    assert [(e["name"], e["version"], e["kind"]) for e in cat["entries"]] == [
        ("tiny", 1, "model"),
        ("tiny", 2, "model"),
    ]
    assert not list((reg.root / ".staging").iterdir())
    assert reg.verify().ok


def test_unknown_refs_name_what_exists(reg, tmp_path):
    register_tiny(reg, tmp_path)
    with pytest.raises(RegistryError, match=r"no entry named 'other'.*available: tiny"):
        reg.resolve("other")
    with pytest.raises(RegistryError, match=r"'tiny@5' does not exist.*versions: 1"):
        reg.resolve("tiny@5")
    with pytest.raises(RegistryError, match="invalid version"):
        reg.resolve("tiny@x")
    with pytest.raises(RegistryError, match="invalid registry name"):
        reg.add_entry("../evil", "model", {"model.onnx": tmp_path / "x"}, {})
    with pytest.raises(RegistryError, match="invalid file name"):
        reg.add_entry("ok", "model", {"../model.onnx": tmp_path / "x"}, {})
    with pytest.raises(RegistryError, match="invalid entry kind"):
        reg.add_entry("ok", "Model!", {"model.onnx": tmp_path / "x"}, {})


def test_open_session_runs_and_reports_provider(reg, tmp_path):
    card = register_tiny(reg, tmp_path, scale=10.0)
    opened = reg.open_session("tiny")
    assert opened.provider == "CPUExecutionProvider"
    assert opened.card["version"] == card["version"]
    xa = np.full((3, 1, 28, 28), 0.5, np.float32)
    xb = np.zeros((3, 1, 28, 28), np.float32)
    np.testing.assert_allclose(opened.logits(xa, xb, batch_size=2), [5.0] * 3, rtol=1e-6)


def test_flipped_byte_is_caught_by_verify_and_refused_by_load(reg, tmp_path):
    card = register_tiny(reg, tmp_path)
    path = reg.file_path(card)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    report = reg.verify()
    assert [(p.kind, Path(p.path).name) for p in report.problems] == [("tampered", "model.onnx")]
    with pytest.raises(RegistryError, match="does not match the card.*refusing to load"):
        reg.open_session("tiny@1")
    result = cli("verify", "--registry", reg.root)
    assert result.exit_code == 1
    assert "tampered" in result.output and "model.onnx" in result.output


def test_tampered_card_is_refused(reg, tmp_path):
    card = register_tiny(reg, tmp_path)
    card_path = reg.entry_dir(card) / "card.json"
    edited = json.loads(card_path.read_text())
    edited["metrics"]["val"]["accuracy"] = 0.99
    card_path.write_text(json.dumps(edited))
    with pytest.raises(RegistryError, match="card was changed after registration"):
        reg.resolve("tiny")
    with pytest.raises(RegistryError, match="card was changed"):
        reg.open_session(card)  # a card handed in is re-read, never trusted
    assert [p.kind for p in reg.verify().problems] == ["card-tampered"]


def test_verify_lists_missing_and_orphaned_files(reg, tmp_path):
    one = register_tiny(reg, tmp_path, name="one")
    register_tiny(reg, tmp_path, name="two")
    (reg.root / "README.md").write_text("a registry\n")  # tolerated at the root
    reg.file_path(one).unlink()
    (reg.root / "two" / "1" / "notes.txt").write_text("stray")
    (reg.root / "three" / "1").mkdir(parents=True)
    (reg.root / "three" / "1" / "model.onnx").write_bytes(b"x")
    (reg.root / "stray.bin").write_bytes(b"x")
    kinds = sorted((p.kind, Path(p.path).name) for p in reg.verify().problems)
    assert kinds == [
        ("missing", "model.onnx"),
        ("orphaned", "1"),
        ("orphaned", "notes.txt"),
        ("orphaned", "stray.bin"),
    ]


def test_corrupted_catalogue_is_never_overwritten(reg, tmp_path):
    register_tiny(reg, tmp_path)
    catalogue = reg.root / "catalogue.json"
    catalogue.write_text('{"format": 1, "entries": [')
    before = catalogue.read_bytes()
    with pytest.raises(RegistryError, match="catalogue is corrupted.*nothing was changed"):
        register_tiny(reg, tmp_path, scale=3.0)
    assert catalogue.read_bytes() == before
    assert sorted(p.name for p in (reg.root / "tiny").iterdir()) == ["1"]
    result = cli("ls", "--registry", reg.root)
    assert result.exit_code == 1 and "catalogue is corrupted" in result.output
    assert "Traceback" not in result.output
    result = cli("verify", "--registry", reg.root)
    assert result.exit_code == 1
    assert "catalogue is corrupted" in result.output
    assert "1 entry directories were found on disk" in result.output


def test_wrong_catalogue_structure_is_named(reg, tmp_path):
    register_tiny(reg, tmp_path)
    (reg.root / "catalogue.json").write_text('{"format": 1, "entries": [{"name": "tiny"}]}')
    with pytest.raises(RegistryError, match=r"entries\[0\] key 'version'"):
        reg.list()
    entry = {"name": "tiny", "version": 1, "kind": "model", "dir": "../../etc", "card_sha256": "0"}
    (reg.root / "catalogue.json").write_text(json.dumps({"format": 1, "entries": [entry]}))
    with pytest.raises(RegistryError, match="is not NAME/VERSION"):
        reg.resolve("tiny")


def test_remove_retires_the_version_number(reg, tmp_path):
    register_tiny(reg, tmp_path, scale=1.0)
    register_tiny(reg, tmp_path, scale=2.0)
    result = cli("rm", "tiny@2", "--yes", "--registry", reg.root)
    assert result.exit_code == 0, result.output
    assert not (reg.root / "tiny" / "2").exists()
    with pytest.raises(RegistryError, match="'tiny@2' was removed"):
        reg.resolve("tiny@2")
    assert register_tiny(reg, tmp_path, scale=3.0)["version"] == 3
    assert cli("rm", "tiny", "--yes", "--registry", reg.root).exit_code == 1
    assert reg.verify().ok


def test_interrupted_registration_is_invisible_and_reported(reg, tmp_path, monkeypatch):
    register_tiny(reg, tmp_path)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(atomic, "write_json", crash)  # dies after the rename, before the catalogue
    with pytest.raises(OSError):
        register_tiny(reg, tmp_path, scale=5.0)
    monkeypatch.undo()
    assert [c["version"] for c in reg.list()] == [1]
    assert [(p.kind, p.path) for p in reg.verify().problems] == [
        ("orphaned", str(reg.root / "tiny" / "2"))
    ]
    assert register_tiny(reg, tmp_path, scale=6.0)["version"] == 3  # never reuses the orphan's dir
    (reg.root / ".staging" / "entry-crashed").mkdir()
    assert "unfinished" in {p.kind for p in reg.verify().problems}


def test_concurrent_writers_all_land_in_the_catalogue(reg, tmp_path):
    script = (
        "import sys; from pathlib import Path; from registry_fixtures import register_tiny;"
        "from pairzoo.registry import Registry;"
        "register_tiny(Registry(sys.argv[1]), Path(sys.argv[2]), scale=float(sys.argv[3]))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    procs = []
    for i in range(5):
        work = tmp_path / f"w{i}"
        work.mkdir()
        cmd = [sys.executable, "-c", script, str(reg.root), str(work), str(i + 1)]
        procs.append(subprocess.Popen(cmd, env=env))
    assert [p.wait(timeout=120) for p in procs] == [0] * 5
    cards = reg.list()
    assert [c["version"] for c in cards] == [1, 2, 3, 4, 5]
    assert sorted(c["architecture"]["params"]["scale"] for c in cards) == [1, 2, 3, 4, 5]
    assert reg.verify().ok


@pytest.mark.filterwarnings("ignore:Specified provider")
def test_provider_fallback_is_detected(reg, tmp_path, monkeypatch):
    register_tiny(reg, tmp_path)
    with pytest.raises(RegistryError, match="provider cuda required"):
        reg.open_session("tiny", require_provider="cuda")
    # Pretend onnxruntime-gpu and a GPU are present: onnxruntime then falls back to CPU silently.
    monkeypatch.setattr(providers, "plan", lambda require=None: [providers.CUDA, providers.CPU])
    opened = reg.open_session("tiny")
    assert opened.provider == providers.CPU
    assert "fell back" in opened.note
    with pytest.raises(RegistryError, match="provider cuda required, but .* fell back"):
        reg.open_session("tiny", require_provider="cuda")
    result = cli("load", "tiny", "--registry", reg.root, "--require-provider", "cuda")
    assert result.exit_code == 1 and "fell back" in result.output


def test_cli_ls_show_and_json(reg, tmp_path):
    assert "has no entries" in cli("ls", "--registry", reg.root).output
    register_tiny(reg, tmp_path)
    out = cli("ls", "--registry", reg.root).output
    assert "tiny" in out and "0.5000" in out and "784" in out
    rows = json.loads(cli("ls", "--json", "--registry", reg.root).output)
    assert rows[0]["name"] == "tiny" and rows[0]["onnx_bytes"] > 0
    shown = json.loads(cli("show", "tiny@1", "--json", "--registry", reg.root).output)
    assert shown["files"]["model.onnx"]["sha256"]
    assert "tiny@1 (model)" in cli("show", "tiny", "--registry", reg.root).output
    assert "provider CPUExecutionProvider" in cli("load", "tiny", "--registry", reg.root).output


def test_default_registry_dir_honours_env(monkeypatch, tmp_path):
    monkeypatch.delenv("PAIRZOO_REGISTRY", raising=False)
    assert default_registry_dir() == Path("registry")
    monkeypatch.setenv("PAIRZOO_REGISTRY", str(tmp_path))
    assert Registry().root == tmp_path


def test_onnx_named_in_card_must_be_registered(reg, tmp_path):
    src = tiny_onnx(tmp_path / "m.onnx")
    with pytest.raises(RegistryError, match="names onnx file 'other.onnx'"):
        reg.add_entry("x", "model", {"model.onnx": src}, {"onnx": "other.onnx"})


def test_asking_for_a_file_an_entry_does_not_have_names_its_card(reg, tmp_path):
    card = register_tiny(reg, tmp_path)
    with pytest.raises(RegistryError, match=r"card\.json: tiny@1 has no file 'weights\.bin'"):
        reg.file_path(card, "weights.bin")
    with pytest.raises(RegistryError, match=r"card\.json: tiny@1 has no main ONNX file"):
        reg.file_path({**card, "onnx": None})
