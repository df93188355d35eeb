"""Starting a run from another run's weights (`train.init_from`): fine-tuning, or a tower first
trained on data with digit labels and then on data without them.

The weights are read like every checkpoint (weights-only, see `checkpoint.load_torch`), must be
the very file the config recorded (`init_sha256`), and must fit the architecture exactly, unless
`train.init_strict` is false: then the weights whose name and shape fit are loaded and the
model's others keep their initialisation (a model with other fusion heads starting from a
tower), which the run's log lists.
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


def load_initial_weights(
    model: torch.nn.Module, init_from: str, expected_sha256: str, strict: bool = True
) -> str:
    """Load the weights `init_from` names into `model`; ConfigError or RunError naming the file.
    Returns, for the run's log, what was left at its initialisation ("" when nothing was)."""
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
    if not strict:
        return _load_fitting(model, state, path, missing + mismatched)
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
    return ""


def _load_fitting(model: torch.nn.Module, state: dict, path: Path, fresh: list[str]) -> str:
    """The weights of `state` that fit `model` by name and shape; `fresh` keep their values."""
    own = model.state_dict()
    fitting = {k: v for k, v in state.items() if k in own and k not in fresh}
    if not fitting:
        raise ConfigError(
            f"{path}: none of its weights fits this run's model (train.init_strict is false, "
            "which loads those whose name and shape fit); give a model that shares some layers"
        )
    model.load_state_dict({**own, **fitting})
    if not fresh:
        return ""
    shown = ", ".join(sorted(fresh)[:6]) + (" ..." if len(fresh) > 6 else "")
    return f"{len(fitting)} of {len(own)} weights from {path}; {len(fresh)} initialised: {shown}"


def _compare(own: dict, given: dict) -> tuple[list[str], list[str], list[str]]:
    missing = sorted(set(own) - set(given))
    unexpected = sorted(set(given) - set(own))
    mismatched = sorted(
        k
        for k in set(own) & set(given)
        if tuple(own[k].shape) != tuple(getattr(given[k], "shape", (None,)))
    )
    return missing, unexpected, mismatched
