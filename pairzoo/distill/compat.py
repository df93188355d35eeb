"""Whether a data set fits an ensemble: its members' input shape and the label rule they learned."""

from __future__ import annotations

from pairzoo.errors import DataError
from pairzoo.registry.card import Card
from pairzoo.runtime.signature import check_signatures


def check_image_shape(ref: str, inputs: list, pair_shape: tuple[int, int], data_dir) -> None:
    """DataError unless every input of signature `inputs` takes one image half of `pair_shape`.

    `inputs` is session_signature's list of [name, type, shape]; None dimensions are dynamic.
    """
    height, width = pair_shape
    image = (1, height, width // 2)
    for name, _, shape in inputs:
        dims = list(shape[1:])
        if len(dims) != 3 or any(
            d is not None and d != e for d, e in zip(dims, image, strict=True)
        ):
            raise DataError(
                f"{data_dir}: pairs of shape {pair_shape} give images {image}, but ensemble {ref} "
                f"takes input '{name}' of shape {shape}; use data the ensemble was built for"
            )


def member_rule(card: Card) -> str | None:
    """The label rule a member was trained for, as its card records it (None when it does not)."""
    rule = card.section("label_rule").get("name") or card.section("config").get("rule")
    return rule if isinstance(rule, str) and rule else None


def check_rule(ref: str, member_cards: list[Card], rule: str, data_dir) -> str | None:
    """DataError when the members recorded a label rule other than the data's; returns theirs."""
    rules = {r for r in (member_rule(c) for c in member_cards) if r is not None}
    if len(rules) > 1:
        raise DataError(
            f"ensemble {ref}: its members were trained for different label rules "
            f"({', '.join(sorted(rules))}); its soft targets follow no single rule"
        )
    if rules and rule not in rules:
        (theirs,) = rules
        raise DataError(
            f"{data_dir}: label rule '{rule}' (meta.json), but ensemble {ref} was trained for "
            f"'{theirs}'; distill on data with rule '{theirs}'"
        )
    return next(iter(rules), None)


def check_data(loaded, pair_shape: tuple[int, int], rule: str, data_dir) -> str | None:
    """Both checks for a LoadedEnsemble; returns the members' rule (None if none recorded)."""
    ref = loaded.card.ref
    sig = check_signatures([m.ref for m in loaded.members], [m.session for m in loaded.members])
    check_image_shape(ref, sig["inputs"], pair_shape, data_dir)
    return check_rule(ref, [m.card for m in loaded.members], rule, data_dir)
