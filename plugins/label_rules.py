"""Builtin label rules: the original task's `greater` and the `same`-digit variant."""

from pairzoo.data.rules import GREATER, SAME
from pairzoo.hookspecs import hookimpl


@hookimpl
def register_label_rules(register):
    register(GREATER)
    register(SAME)
