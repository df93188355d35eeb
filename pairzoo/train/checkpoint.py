"""Torch files of a run, written atomically and read with weights_only; RNG state capture."""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pairzoo.atomic import write_bytes
from pairzoo.errors import RunError

FORMAT = 1


def save_torch(path: str | Path, obj: Any) -> None:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(path, buffer.getvalue())


def load_torch(path: str | Path) -> Any:
    """A torch file of plain tensors and containers; RunError if missing, corrupted or unsafe."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RunError(f"{path}: file is missing") from None
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(
            f"{path}: refused to load: it holds objects other than tensors and plain data, which "
            f"could run code ({first})"
        ) from exc
    except Exception as exc:  # truncated zip, bad magic number, ...
        raise RunError(
            f"{path}: corrupted or truncated torch file ({type(exc).__name__}: {exc})"
        ) from exc


def cpu_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def save_model(path: str | Path, state_dict: dict, config: dict) -> None:
    save_torch(path, {"format": FORMAT, "state_dict": state_dict, "config": config})


def rng_state(np_rng: np.random.Generator, generator: torch.Generator) -> dict:
    state = {
        "torch": torch.get_rng_state(),
        "numpy": np_rng.bit_generator.state,  # plain dict of ints and strings
        "augment": generator.get_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict, np_rng: np.random.Generator, generator: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    np_rng.bit_generator.state = state["numpy"]
    generator.set_state(state["augment"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
