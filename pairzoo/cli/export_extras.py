"""The `--ensemble` and `--quantize` parts of `pairzoo export`, kept out of the command."""

from __future__ import annotations

import json
from typing import Any

import click

from pairzoo.registry.card import Card


def export_ensemble(
    registry: Any,
    ref: str | None,
    data_dir: str | None,
    out: str | None,
    as_json: bool,
    int8: str = "auto",
) -> None:
    """Write the ensemble `ref` (latest when None) as one ONNX file behind the parity gate;
    each member with an int8 variant as the one `int8` picks on this CPU."""
    from pairzoo.data.format import load_data_dir
    from pairzoo.ensemble.export import export_ensemble as run
    from pairzoo.ensemble.members import load_ensemble_card

    card = load_ensemble_card(registry, ref)
    data_dir = data_dir or card.section("data").get("path")
    if not data_dir:
        raise click.UsageError("give --data DIR: the parity gate runs on its val pairs")
    val = load_data_dir(data_dir, "val")
    result = run(registry, card.ref, val.x, out=out, int8=int8)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "path": str(result.path),
                    "ensemble": result.ref,
                    "bytes": result.bytes,
                    "parity": vars(result.parity) | {"passed": result.parity.ok},
                },
                indent=2,
            )
        )
        return
    click.echo(f"wrote {result.path} ({result.bytes:,} bytes): {result.ref} as one ONNX graph")
    click.echo(
        "  inputs xa, xb float32 (N, 1, 28, 28); outputs probability float32 (N,), label int64 (N,)"
    )
    click.echo(f"  parity with the Python path: {result.parity.describe()}")


def quantize_exported(card: Card, registry: Any, data_dir: str | None) -> Card:
    """Add the int8 variant of the just-exported `card`; the error says the fp32 entry stays."""
    from pairzoo.errors import ExportError
    from pairzoo.exporting.quantize import quantize_entry

    ref = card.ref
    data_dir = data_dir or card.section("data").get("parity_data")
    try:
        return quantize_entry(registry, ref, data_dir)
    except ExportError as exc:
        raise ExportError(f"registered {ref} (fp32), but {exc}") from None


def describe_int8(card: Card) -> str:
    q = card.section("quantization")
    acc = q["val_accuracy"]
    return (
        f"registered {card.ref} (int8 {q['format']}, from {q['from']}): val accuracy "
        f"{100 * acc['int8']:.2f}% vs fp32 {100 * acc['fp32']:.2f}% (drop {acc['drop_points']:.2f} points)"
    )
