"""The unlabelled target pairs: read from pair files (keys x, id only), hashed for the lineage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.data.format import read_unlabelled
from pairzoo.data.meta import sha256_file
from pairzoo.errors import DataError


@dataclass
class Targets:
    x: np.ndarray  # uint8 (N, 28, 56), the files' pairs in the order given
    files: list[dict[str, Any]]  # {name, path, sha256, pairs} per file, for the cards

    def __len__(self) -> int:
        return len(self.x)


def load_targets(paths: list[str | Path]) -> Targets:
    """The pairs of every file in `paths`; a file's labels, if it has any, are never read.

    Raises DataError naming the file for a missing key, a wrong shape or dtype, no pairs, a
    file given twice, or a file that is not a readable .npz.
    """
    if not paths:
        raise DataError("--unlabelled: give at least one pair file (.npz with keys x, id)")
    parts, files, seen = [], [], {}
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise DataError(f"{path}: no such file, expected a pair file (.npz with keys x, id)")
        digest = sha256_file(path)
        if digest in seen:
            raise DataError(f"{path}: the same pairs as {seen[digest]} (sha256 {digest[:12]})")
        seen[digest] = path
        split = read_unlabelled(path)
        parts.append(split.x)
        files.append(
            {"name": path.name, "path": str(path), "sha256": digest, "pairs": len(split.x)}
        )
    return Targets(np.concatenate(parts), files)
