"""The `--quantize` part of `pairzoo export`, kept out of the command."""

from __future__ import annotations

from pairzoo.registry import Registry
from pairzoo.registry.card import Card


def quantize_exported(card: Card, registry: Registry, data_dir: str | None) -> Card:
    """Add the int8 variant of the just-exported `card`; the error says the fp32 entry stays."""
    from pairzoo.errors import ExportError
    from pairzoo.exporting.quantize import quantize_entry

    ref = card.ref
    data_dir = data_dir or card.section("data").get("parity_data")
    try:
        return quantize_entry(registry, ref, data_dir)
    except ExportError as exc:
        raise ExportError(f"registered {ref} (fp32), but {exc}") from None


def int8_line(card: Card) -> str:
    q = card.section("quantization")
    acc = q["val_accuracy"]
    return (
        f"registered {card.ref} (int8 {q['format']}, from {q['from']}): val accuracy "
        f"{100 * acc['int8']:.2f}% vs fp32 {100 * acc['fp32']:.2f}% (drop {acc['drop_points']:.2f} points)"
    )
