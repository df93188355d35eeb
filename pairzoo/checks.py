"""One value checker for every setting pairzoo reads (run configs, zoo files, plugin parameters):
a value must have its default's type, be finite where it is a float, and pass its rule; errors
read "WHAT must be EXPECTED, got VALUE", so they name the file and the field wherever used."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from pairzoo.errors import ConfigError

__all__ = ["Rule", "check_rule", "check_type", "check_value", "finite_float"]

# (check, what the value must be): e.g. (lambda v: v >= 1, "at least 1")
Rule = tuple[Callable[[Any], bool], str]


def check_type(what: str, default: Any, value: Any) -> Any:
    """`value` if it has the type of `default` (an int passes for a float, a tuple for a list),
    as that type; ConfigError "`what` must be TYPE, got VALUE" otherwise."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        try:
            value = float(value) if ok else value
        except OverflowError:  # an int too big for a float stays; finite_float says so
            pass
    elif isinstance(default, dict):
        ok = isinstance(value, dict)
    elif isinstance(default, list | tuple):
        ok = isinstance(value, list | tuple)
        value = list(value) if ok else value
    else:
        ok = isinstance(value, type(default))
    if not ok:
        expected = "table" if isinstance(default, dict) else type(default).__name__
        raise ConfigError(f"{what} must be {expected}, got {value!r:.80}")
    return value


def finite_float(what: str, value: Any) -> float:
    """`value` (int or float) as a finite float; ConfigError "`what` must be ..." otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return number
    raise ConfigError(f"{what} must be a finite number, got {value!r:.60}")


def check_rule(what: str, value: Any, rule: Rule | None) -> None:
    """ConfigError "`what` must be EXPECTED, got VALUE" unless `value` passes `rule`."""
    if rule is not None and not rule[0](value):
        raise ConfigError(f"{what} must be {rule[1]}, got {value!r:.80}")


def check_value(what: str, default: Any, value: Any, rule: Rule | None = None) -> Any:
    """Type, finiteness (for a float default) and `rule`, in that order; returns the value as
    its default's type. The rule sees, and its error shows, the value as given."""
    checked = check_type(what, default, value)
    if isinstance(default, float):
        checked = finite_float(what, value)
    check_rule(what, value, rule)
    return checked
