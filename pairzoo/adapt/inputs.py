"""What `pairzoo adapt` reads besides the registry: the labelled data, the --score files, the
label rule's swap behaviour, and the hashes that let a rerun find its own work."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pairzoo.adapt.finetune import Labelled
from pairzoo.data.format import load_data_dir, load_split, read_meta
from pairzoo.data.meta import data_fingerprint
from pairzoo.distill.compat import member_rule
from pairzoo.distill.teacher import card_sha256
from pairzoo.errors import DataError
from pairzoo.plugins import get_label_rule
from pairzoo.registry.card import ref_of


def labelled_data(data_dir) -> dict[str, Any]:
    train = load_data_dir(data_dir, "train")
    val = load_data_dir(data_dir, "val")
    test = None
    if (Path(data_dir) / "test_public.npz").exists():
        test = load_data_dir(data_dir, "test_public")
        test = test if test.y is not None else None
    try:
        fingerprint, rule = data_fingerprint(data_dir), read_meta(data_dir).get("rule")
    except DataError:
        fingerprint, rule = None, None
    return {
        "dir": Path(data_dir),
        "train": Labelled(train.x, train.y, train.digits),
        "val": val,
        "test": test,
        "fingerprint": fingerprint,
        "rule": rule,
    }


def score_file(score):
    split = load_split(score)
    if split.y is None:
        raise DataError(f"{score}: --score needs a labelled pair file, but key 'y' is missing")
    return split


def swap_rule(sources, data_rule: str | None) -> str:
    rules = {r for r in (member_rule(s.card) for s in sources) if r}
    if len(rules) > 1:
        raise DataError(f"the members were trained for different label rules: {sorted(rules)}")
    rule = next(iter(rules), data_rule or "greater")
    if data_rule and data_rule != rule:
        raise DataError(f"--data has label rule '{data_rule}', the members learned '{rule}'")
    return get_label_rule(rule).on_swap


def request_hash(files: list[dict], fingerprint: str | None, settings: dict[str, Any]) -> str:
    """sha256 of what the command asks for besides the parent: files, labelled data, settings."""
    body = {
        "unlabelled": [f["sha256"] for f in files],
        "data": fingerprint,
        "settings": settings,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def adaptation_key(parent: dict, request: str) -> str:
    body = {
        "parent": ref_of(parent),
        "parent_card_sha256": card_sha256(parent),
        "request": request,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object file's content; {} where it is missing, unreadable or not an object."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
