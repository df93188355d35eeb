"""The inputs and outputs of pairzoo's ONNX files: as cards declare them, and as sessions show them.

A pair model takes ``xa`` and ``xb`` and gives ``logit``; the one-file ensemble takes the same
inputs and gives ``probability`` and ``label``. Cards record the declared form; members are
checked against the form their sessions report before they run together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pairzoo.errors import RegistryError

EXPECTED_INPUTS = ("xa", "xb")

# The inputs every file takes, as cards declare them (`EXPECTED_INPUTS`, float32 each).
PAIR_INPUTS: list[dict[str, Any]] = [
    {"name": "xa", "dtype": "float32", "shape": ["N", 1, 28, 28]},
    {"name": "xb", "dtype": "float32", "shape": ["N", 1, 28, 28]},
]

# The model I/O contract as it appears in every single-model card.
MODEL_SIGNATURE: dict[str, Any] = {
    "inputs": PAIR_INPUTS,
    "outputs": [{"name": "logit", "dtype": "float32", "shape": ["N"]}],
    "preprocessing": "x uint8 (N, 28, 56); xa = x[:, :, :28] / 255.0, xb = x[:, :, 28:] / 255.0",
    "output_meaning": "logit of label 1; label = logit > 0",
}

# An ensemble entry's I/O (and its one-file export's) as it appears in every ensemble card.
ENSEMBLE_SIGNATURE: dict[str, Any] = {
    "inputs": PAIR_INPUTS,
    "outputs": [
        {"name": "probability", "dtype": "float32", "shape": ["N"]},
        {"name": "label", "dtype": "int64", "shape": ["N"]},
    ],
    "meta_learner_input": "member logits (N, members) in the order of 'members'",
}


def session_signature(session: Any) -> dict[str, Any]:
    """{"inputs": [[name, type, shape]], "outputs": [...]} with symbolic dimensions as None."""

    def shape(arg: Any) -> list[int | None]:
        return [d if isinstance(d, int) else None for d in arg.shape]

    return {
        "inputs": [[a.name, a.type, shape(a)] for a in session.get_inputs()],
        "outputs": [[a.name, a.type, shape(a)] for a in session.get_outputs()],
    }


def check_signatures(refs: Sequence[str], sessions: Sequence[Any]) -> dict[str, Any]:
    """Raise RegistryError unless every session takes the same pair inputs; return the inputs."""
    first: dict[str, Any] | None = None
    for ref, session in zip(refs, sessions, strict=True):
        sig = session_signature(session)
        names = tuple(i[0] for i in sig["inputs"])
        if names != EXPECTED_INPUTS:
            raise RegistryError(
                f"member {ref} takes inputs {list(names)}, expected {list(EXPECTED_INPUTS)} "
                "(float32 (N, 1, 28, 28) each)"
            )
        if len(sig["outputs"]) < 1 or sig["outputs"][0][1] != "tensor(float)":
            raise RegistryError(
                f"member {ref} has outputs {sig['outputs']}, expected one float logit"
            )
        if first is None:
            first, first_ref = sig, ref
        elif sig["inputs"] != first["inputs"]:
            raise RegistryError(
                f"members have different input signatures: {first_ref} takes {first['inputs']}, "
                f"{ref} takes {sig['inputs']}; an ensemble needs members with the same inputs"
            )
    return {"inputs": first["inputs"] if first else []}
