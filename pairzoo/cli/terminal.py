"""Text from data (cards, file names, messages quoting them) made safe to print on a terminal."""

from __future__ import annotations

_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F]}
_CONTROL_BUT_NEWLINE = {c: e for c, e in _CONTROL.items() if c != 0x0A}


def printable(text, keep_newlines: bool = False) -> str:
    """`text` with control characters escaped: card text is data from whoever made the entry,
    and must not move the cursor, clear the screen or retitle the terminal. An error message may
    keep its own line breaks (`keep_newlines`)."""
    return str(text).translate(_CONTROL_BUT_NEWLINE if keep_newlines else _CONTROL)
