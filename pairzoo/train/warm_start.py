"""Starting a run from another run's weights (`train.init_from`): fine-tuning, or a tower first
trained on data with digit labels and then on data without them.

The weights are read like every checkpoint (weights-only, see `checkpoint.load_torch`), must be
the very file the config recorded (`init_sha256`), and must fit the architecture exactly.
"""

from __future__ import annotations

from pathlib import Path

import torch

from pairzoo.errors import ConfigError
from pairzoo.train.checkpoint import load_torch


def weights_file(init_from: str | Path) -> Path:
    """The model.pt that `init_from` (a run directory or a .pt file) names; ConfigError if none."""
    path = Path(init_from)
    if path.is_dir():
        path = path / "model.pt"
    if not path.is_file():
        raise ConfigError(
            f"train.init_from: {path} does not exist; expected a run directory or its model.pt"
        )
    return path


def load_initial_weights(model: torch.nn.Module, init_from: str, expected_sha256: str) -> None:
    """Load the weights `init_from` names into `model`; ConfigError or RunError naming the file."""
    import hashlib

    path = weights_file(init_from)
    data = path.read_bytes()  # hashed and loaded from the same bytes
    found = hashlib.sha256(data).hexdigest()
    if expected_sha256 and found != expected_sha256:
        raise ConfigError(
            f"{path}: sha256 {found[:12]} differs from {expected_sha256[:12]}, the one this run's "
            "config recorded; the initial weights changed since the run started"
        )
    saved = load_torch(path, data)
    state = saved.get("state_dict") if isinstance(saved, dict) else None
    if not isinstance(state, dict):
        raise ConfigError(f"{path}: expected a pairzoo model.pt with a 'state_dict', found none")
    missing, unexpected, mismatched = _compare(model.state_dict(), state)
    if missing or unexpected or mismatched:
        arch = (saved.get("config") or {}).get("arch", "?")
        raise ConfigError(
            f"{path}: its weights (architecture '{arch}') do not fit this run's model: "
            + "; ".join(
                f"{what} {', '.join(keys[:4])}{' ...' if len(keys) > 4 else ''}"
                for what, keys in (
                    ("missing", missing),
                    ("unexpected", unexpected),
                    ("other shape", mismatched),
                )
                if keys
            )
            + "; give the same architecture and parameters"
        )
    model.load_state_dict(state)


def _compare(own: dict, given: dict) -> tuple[list[str], list[str], list[str]]:
    missing = sorted(set(own) - set(given))
    unexpected = sorted(set(given) - set(own))
    mismatched = sorted(
        k
        for k in set(own) & set(given)
        if tuple(own[k].shape) != tuple(getattr(given[k], "shape", (None,)))
    )
    return missing, unexpected, mismatched
