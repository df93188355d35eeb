"""A plugin's own bug, told in one line: which plugin and item raised, and what.

An exception that is not pairzoo's (a NameError in a plugin's forward, a RuntimeError from torch
called by a plugin) is traced back to the innermost frame of a plugin's code; the message then
names the item (`architecture 'NAME' (PLUGIN, FILE): NameError: ...`) and the traceback is
shown only behind `--debug` or PAIRZOO_DEBUG=1.
"""

from __future__ import annotations

import os
import traceback

from pairzoo import plugins
from pairzoo.errors import PluginError

DEBUG_ENV = "PAIRZOO_DEBUG"


def debug_wanted() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def blame(exc: BaseException, prefer=()) -> PluginError | None:
    """PluginError naming the plugin whose code raised `exc` (and its item: the one in `prefer`,
    pairs (family, name), or the plugin's only item); None when no plugin's code is in its
    traceback or no plugins are loaded."""
    cat = plugins.loaded_catalog()
    if cat is None or exc.__traceback__ is None:
        return None
    owner = None
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        owner = next((p for p in cat.plugins if _inside(frame.filename, p.home)), None)
        if owner is not None:
            break
    if owner is None:
        return None
    items = [
        cat.family(family)[name]
        for family, names in owner.registered.items()
        for name in names
        if name in cat.family(family)
    ]
    chosen = [i for i in items if (i.family, i.name) in set(prefer)] or items[:1] * (
        len(items) == 1
    )
    label = cat.label(chosen[0]) if chosen else f"plugin '{owner.where()}'"
    return PluginError(f"{label}: {type(exc).__name__}: {exc}")


def _inside(filename: str, home: str | None) -> bool:
    if not home or not filename:
        return False
    return filename == home or filename.startswith(home.rstrip(os.sep) + os.sep)
