"""Rewrite the results blocks of markdown pages: `<!-- results:KIND -->` ... `<!-- /results -->`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from pairzoo.atomic import write_text

BLOCK = re.compile(r"(<!-- results:([a-z0-9-]+) -->\n)(.*?)(<!-- /results -->)", re.DOTALL)


def pages(repo: Path) -> list[Path]:
    """The pages that may hold results blocks: README.md and docs/*.md."""
    return [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]


def rewrite(text: str, block: Callable[[str], str]) -> str:
    """`text` with every results block's body replaced by `block(kind)`."""
    return BLOCK.sub(lambda m: f"{m[1]}{block(m[2])}\n{m[4]}", text)


def stale_pages(paths: Iterable[Path], block: Callable[[str], str]) -> list[Path]:
    """The pages whose blocks differ from what `block` renders now."""
    return [
        p
        for p in paths
        if rewrite(p.read_text(encoding="utf-8"), block) != p.read_text(encoding="utf-8")
    ]


def write_pages(paths: Iterable[Path], block: Callable[[str], str]) -> list[Path]:
    """Rewrite the stale pages in place (atomically); returns them."""
    stale = stale_pages(paths, block)
    for p in stale:
        write_text(p, rewrite(p.read_text(encoding="utf-8"), block))
    return stale
