"""Write a corruption file: the TOML text of a corruption file's content, with a comment header.

No TOML writer is needed for this one shape (a `format` number, the tables `affine`,
`intensity` and `lines`, the array of tables `rects`, values that are numbers or lists of
numbers); the text is checked by reading it back with `load_corruption`.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["corruption_text"]


def corruption_text(raw: dict[str, Any], header: list[str]) -> str:
    """The TOML text of `raw` (as `CorruptionFile.raw`), preceded by `header` as comments."""
    lines = [f"# {line}" if line else "#" for line in header]
    scalars = {k: v for k, v in raw.items() if not isinstance(v, dict | list)}
    lines += [f"{key} = {_value(value)}" for key, value in scalars.items()]
    for name, table in raw.items():
        if isinstance(table, dict):
            lines += ["", f"[{name}]", *_body(table)]
    for name, tables in raw.items():
        if isinstance(tables, list):
            for table in tables:
                lines += ["", f"[[{name}]]", *_body(table)]
    return "\n".join(lines) + "\n"


def _body(table: dict[str, Any]) -> list[str]:
    return [f"{key} = {_value(value)}" for key, value in table.items()]


def _value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"corruption files hold numbers only, found {value!r}")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"corruption files hold finite numbers only, found {value!r}")
    return repr(float(f"{value:.4g}"))  # 4 significant digits, always written as a float
