"""README.md and docs/ against what they are made from: results/, the CLI, the repository itself."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import click
import pytest

from pairzoo.cli import main as cli
from pairzoo.machine import Cpu
from pairzoo.results import __main__ as results_cli
from pairzoo.results.pages import pages, rewrite, stale_pages
from pairzoo.results.records import newest_record, save_record

REPO = Path(__file__).resolve().parent.parent
CPU = Cpu(model="Test CPU 9000", flags=("avx2", "avx512f"), cores=2)


def _block(root: Path):
    return results_cli.block_for(root)


def test_pages_match_the_committed_results():
    stale = stale_pages(pages(REPO), _block(REPO / "results"))
    assert not stale, f"{[str(p) for p in stale]} differ from results/: run `make docs`"


def test_every_results_kind_on_a_page_has_a_renderer():
    from pairzoo.results.pages import BLOCK
    from pairzoo.results.tables import TABLES, VIEWS

    kinds = {m[2] for p in pages(REPO) for m in BLOCK.finditer(p.read_text(encoding="utf-8"))}
    assert {"train-all", "bench", "realism-verdict"} <= kinds <= set(TABLES) | set(VIEWS)
    assert {kind for kind, _ in VIEWS.values()} <= set(TABLES)


def _summary(val: float) -> dict:
    model = {
        "name": "resnet_seed42",
        "stage": 3,
        "status": "trained",
        "export": "registered",
        "train_accuracy": 0.8,
        "val": {"accuracy": val},
        "test_public": {"accuracy": 0.81},
        "params": 56100,
        "macs_per_pair": 10.17e6,
        "train_time_s": 200.0,
    }
    row = {
        "method": "stacking (LightGBM)",
        "members": 1,
        "val_accuracy": 0.845,
        "test_public_accuracy": 0.847,
        "winner": True,
    }
    return {"profile": "cpu", "data": "data", "models": [model], "ensemble": {"rows": [row]}}


def test_the_train_all_table_says_how_long_the_run_took():
    from pairzoo.results.tables import render

    summary = _summary(0.84)
    summary.update(wall_s=1347.7, phases_s={"ensemble": 66.6, "export": 21.2, "train": 1259.9})
    record = {"created": "2026-12-07T00:00:00Z", "commit": "abc1234", "command": "make train-all",
              "cpu": {"description": "Test CPU"}, "data": summary}  # fmt: skip
    text = render("train-all", record)
    assert "`pairzoo train-all` took 22m28s (train 21m00s, export 21s, ensemble 1m07s)." in text
    del summary["wall_s"]  # records from before the field: the line without it
    assert "took" not in render("train-all", record)


@pytest.fixture
def repo_copy(tmp_path) -> Path:
    """README.md and docs/ copied beside an empty results/, as a repository would hold them."""
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    (tmp_path / "results").mkdir()
    return tmp_path


def test_a_figure_typed_by_hand_fails_and_make_docs_restores_it(repo_copy):
    save_record(
        repo_copy / "results", "train-all", _summary(0.8242), "make train-all", "abc1234", CPU
    )
    assert results_cli.main(["--repo", str(repo_copy), "render"]) == 0
    readme = repo_copy / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert "| resnet_seed42 | 3 | trained |" in text and "82.42" in text and "`abc1234`" in text
    assert results_cli.main(["--repo", str(repo_copy), "render", "--check"]) == 0

    readme.write_text(text.replace("82.42", "83.42"), encoding="utf-8")
    assert results_cli.main(["--repo", str(repo_copy), "render", "--check"]) == 1
    results_cli.main(["--repo", str(repo_copy), "render"])
    assert readme.read_text(encoding="utf-8") == text


def test_the_newest_record_wins_over_cpu_kinds(repo_copy, monkeypatch):
    root = repo_copy / "results"
    first = save_record(root, "train-all", _summary(0.80), "make train-all", "aaa1111", CPU)
    other = Cpu(model="Other CPU", flags=("avx2",), cores=4)
    second = save_record(root, "train-all", _summary(0.90), "make train-all", "bbb2222", other)
    assert first.parent != second.parent
    assert first.relative_to(root).parts[:2] == ("train-all", "test-9000-avx512f-" + CPU.key()[:6])
    import json

    first_record = json.loads(first.read_text())
    first_record["created"] = "2000-01-01T00:00:00+00:00"
    first.write_text(json.dumps(first_record))
    assert newest_record(root, "train-all")["commit"] == "bbb2222"


def test_without_a_record_the_block_says_so_and_how_to_make_one(tmp_path):
    page = "<!-- results:bench -->\n<!-- /results -->\n"
    out = rewrite(page, _block(tmp_path))
    assert "No `bench` record has been committed yet; `make bench` makes one" in out


def test_a_broken_record_is_one_line_naming_the_file(tmp_path):
    from pairzoo.results.records import RecordError

    bad = tmp_path / "bench" / "cpu" / "x.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"kind": "bench"}')
    with pytest.raises(RecordError, match=r"x\.json: key 'created' missing"):
        newest_record(tmp_path, "bench")


def _leaf_commands(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from _leaf_commands(command, ctx, (*prefix, name))
        else:
            yield (*prefix, name)


def test_the_readme_command_table_lists_every_command():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    listed = set()
    for cell in re.findall(r"^\| `pairzoo ([^`]+)`", text, re.MULTILINE):
        words = cell.replace("\\|", "|").split()
        group, subs = words[0], words[1].split("|") if len(words) > 1 else []
        listed.add((group,))
        listed.update((group, s) for s in subs)
    with click.Context(cli) as ctx:
        missing = [" ".join(c) for c in _leaf_commands(cli, ctx) if c not in listed]
    assert not missing, f"README.md's command table lacks: {missing}"


def test_the_readme_stays_short():
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) <= 150


@pytest.mark.parametrize("page", pages(REPO), ids=lambda p: p.name)
def test_no_page_names_a_path_outside_the_repository(page):
    text = page.read_text(encoding="utf-8")
    assert "../shared" not in text and "real_unlabelled" not in text
    assert not re.search(r"(?<![\w.~])/(?:work|home|tmp|root|Users)/", text)
    for target in re.findall(r"\]\(([^)#]+)", text):
        if not re.match(r"https?://", target):
            assert (page.parent / target).resolve().is_relative_to(REPO), target
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_make_bench_files_what_each_benchmark_printed(tmp_path, monkeypatch, capsys):
    import sys
    import types

    import benchmarks.__main__ as bench

    fake = types.ModuleType("benchmarks.bench_fake")
    fake.main = lambda: print("fp32 758 pairs/s | int8 742 pairs/s")
    monkeypatch.setitem(sys.modules, "benchmarks.bench_fake", fake)
    monkeypatch.setattr(bench, "discover", lambda: ["bench_fake"])
    assert bench.main(["--record", str(tmp_path)]) == 0
    assert "fp32 758 pairs/s" in capsys.readouterr().out
    out = rewrite("<!-- results:bench -->\n<!-- /results -->", _block(tmp_path))
    assert "| bench_fake | ok |" in out and "fp32 758 pairs/s | int8 742 pairs/s" in out
    assert "command `python -m benchmarks`" in out


def test_make_results_files_the_train_all_summary(repo_copy, capsys):
    import json

    summary = repo_copy / "summary.json"
    summary.write_text(json.dumps(_summary(0.8242)))
    args = [
        "--repo",
        str(repo_copy),
        "save",
        "train-all",
        str(summary),
        "--command",
        "make train-all",
    ]
    assert results_cli.main(args) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.parent.parent == repo_copy / "results" / "train-all"
    record = json.loads(path.read_text())
    assert record["data"] == _summary(0.8242) and record["command"] == "make train-all"
    missing = ["--repo", str(repo_copy), "save", "train-all", str(repo_copy / "none.json")]
    assert results_cli.main(missing) == 1
    assert "none.json: not a readable JSON file" in capsys.readouterr().err
