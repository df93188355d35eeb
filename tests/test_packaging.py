"""The wheel holds every package: pyproject lists them one by one, so a new one must be added."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def packages_on_disk() -> set[str]:
    found = set()
    for top, name in (("pairzoo", "pairzoo"), ("plugins", "pairzoo_plugins")):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top).parts
            found.add(".".join((name, *rel)))
    return found


def test_pyproject_lists_every_package():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    assert sorted(packages_on_disk() - listed) == []
    assert sorted(listed - packages_on_disk()) == []
