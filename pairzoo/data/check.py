"""Validate a data directory or one data file, saying what was checked."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pairzoo.data.format import LABELLED, LABELS_CSV, SPLITS, PairSplit, load_data_dir, load_split
from pairzoo.data.labels_csv import read_labels_table
from pairzoo.data.meta import META, read_meta, verify_meta
from pairzoo.errors import DataError

__all__ = ["check_path", "describe_split"]

REQUIRED = ("train", "val")


def describe_split(name: str, split: PairSplit) -> str:
    parts = [f"{name}: {len(split)} pairs, x uint8 {split.x.shape}, ids unique"]
    if split.y is not None:
        ones = int(split.y.sum())
        parts.append(f"labels 0/1 = {len(split) - ones}/{ones}")
    else:
        parts.append("no labels")
    if split.digits is not None:
        parts.append("digits (N, 2)")
    return ", ".join(parts)


def check_path(path: str | os.PathLike) -> list[str]:
    """Validate a data directory, a split .npz, a labels .csv or a meta.json; returns one line
    per thing checked. Raises DataError at the first problem."""
    path = Path(path)
    if path.is_dir():
        return _check_dir(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if path.name == META:
        return [_meta_line(path.parent, read_meta(path.parent))]
    if path.suffix == ".csv":
        ids, labels = read_labels_table(path)
        return [
            f"{path.name}: {len(ids)} labels, ids unique, 0/1 = {len(ids) - labels.sum()}/{labels.sum()}"
        ]
    if path.suffix == ".npz":
        split = load_split(path)
        if path.stem in LABELLED and split.y is None:
            raise DataError(f"{path}: key 'y' is missing, expected labels y int (N,) in {{0, 1}}")
        return [describe_split(path.name, split)]
    raise DataError(f"{path}: expected a data directory, a split .npz, an id,label .csv or {META}")


def _check_dir(data_dir: Path) -> list[str]:
    for split in REQUIRED:
        if not (data_dir / f"{split}.npz").is_file():
            raise DataError(
                f"{data_dir}: {split}.npz is missing (a data directory holds train.npz, val.npz "
                f"and optionally test_public.npz with {LABELS_CSV}, test_private.npz)"
            )
    if (data_dir / LABELS_CSV).is_file() and not (data_dir / "test_public.npz").is_file():
        raise DataError(f"{data_dir}: {LABELS_CSV} is present but test_public.npz is missing")
    lines, seen = [], {}
    for split in SPLITS:
        if not (data_dir / f"{split}.npz").is_file():
            lines.append(f"{split}.npz: absent")
            continue
        data = load_data_dir(data_dir, split)
        name = f"{split}.npz"
        if split == "test_public":
            name += (
                f" + {LABELS_CSV}" if data.y is not None else f" ({LABELS_CSV} absent: unlabelled)"
            )
        lines.append(describe_split(name, data))
        _check_disjoint(data_dir, split, data.ids, seen)
    lines.append("ids: no id appears in two splits")
    if (data_dir / META).is_file():
        meta = read_meta(data_dir)
        lines.append(_meta_line(data_dir, meta))
        for split, n in meta.get("sizes", {}).items():
            if split in seen and len(seen[split]) != n:
                raise DataError(
                    f"{data_dir / META}: sizes.{split} is {n} but {split}.npz holds {len(seen[split])} pairs"
                )
    else:
        lines.append(f"{META}: absent (not made by `pairzoo data make`)")
    return lines


def _meta_line(data_dir: Path, meta: dict) -> str:
    checked = verify_meta(data_dir, meta)
    if not checked:
        return f"{META}: lists no file hashes, nothing to verify"
    return f"{META}: sha256 matches for {', '.join(checked)}"


def _check_disjoint(
    data_dir: Path, split: str, ids: np.ndarray, seen: dict[str, np.ndarray]
) -> None:
    for other, other_ids in seen.items():
        common = np.intersect1d(ids, other_ids)
        if len(common):
            raise DataError(
                f"{data_dir}: id '{common[0]}' appears in both {other}.npz and {split}.npz "
                f"({len(common)} shared ids), expected disjoint splits"
            )
    seen[split] = ids
