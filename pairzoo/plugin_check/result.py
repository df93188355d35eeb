"""One row of the plugin check's table: which item, which test, and how it went."""

from __future__ import annotations

from dataclasses import dataclass

PASS, FAIL, SKIP = "pass", "FAIL", "skip"


@dataclass
class Result:
    item: str  # "architecture tinynet"
    test: str
    status: str  # PASS, FAIL or SKIP
    detail: str = ""
