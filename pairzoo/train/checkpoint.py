"""Torch files of a run, written atomically and read with weights_only; RNG state capture."""

from __future__ import annotations

import io
import pickle
import re
import warnings
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


def load_torch(path: str | Path, data: bytes | None = None) -> Any:
    """A torch file of plain tensors and containers; RunError if missing, corrupted or unsafe.

    Only torch's weights-only unpickler reads the file (whatever TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD
    says, since weights_only is passed explicitly): a pickle that names any function or class
    outside tensors and plain containers is refused before anything in it is called. `data`,
    if given, is the file's bytes as the caller already read (and, say, hashed) them.
    """
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise RunError(f"{path}: file is missing") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "Detected pickle protocol 4": one line is enough
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise RunError(
            f"{path}: refused to load: it holds objects other than tensors and plain data, which "
            f"could run code ({_unsafe_detail(str(exc))})"
        ) from exc
    except Exception as exc:  # truncated zip, bad magic number, ...
        raise RunError(
            f"{path}: corrupted or truncated torch file ({type(exc).__name__}: {exc})"
        ) from exc


def _unsafe_detail(message: str) -> str:
    """What torch's weights-only unpickler stopped at, without its advice to load it anyway."""
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", message)
    if found:
        return f"it names {found.group(1)}"
    found = re.search(r"Unsupported operand (\d+)", message)
    if found:
        return f"pickle opcode {found.group(1)} is not allowed"
    found = re.search(r"WeightsUnpickler error: *\n*\s*([^\n]+)", message)
    return found.group(1).strip() if found else "not a weights-only torch file"


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
