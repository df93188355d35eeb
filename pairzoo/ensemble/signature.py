"""Input/output signatures of ONNX pair models, and the check that members agree on them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pairzoo.errors import RegistryError

EXPECTED_INPUTS = ("xa", "xb")


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
