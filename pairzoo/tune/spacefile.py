"""A TOML file that adds, narrows, fixes or drops search dimensions.

::

    derived = true             # start from the derived space (default); false: only this file's
    [train.lr]
    low = 1e-4
    high = 1e-2
    log = true                 # default false
    [train.weight_decay]
    fixed = 1e-4               # not searched: every trial uses this value
    [arch.heads]
    choices = [["diff"], ["diff", "concat"]]
    [arch.feat_dim]
    low = 16                   # integers for an integer parameter
    high = 64
    [loss.gamma]
    off = true                 # not searched: the base config's value stays

Sections are ``train`` (the config's train keys), ``arch`` and ``loss`` (the parameters the
architecture and the loss registered). Every value is checked against the parameter's type.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pairzoo.catalog import resolve_params
from pairzoo.errors import ConfigError
from pairzoo.tomlfile import read_toml
from pairzoo.train.config import TRAIN_DEFAULTS, validate
from pairzoo.tune.space import Dim, label

if TYPE_CHECKING:
    from pairzoo.train.runconfig import RunConfig

# Train keys a trial cannot vary: the budget, where it runs, and what pruning counts on.
_FIXED_TRAIN = ("epochs", "device", "threads", "eval_batch_size", "subset", "subset_mode")
_ENTRY_KEYS = ("low", "high", "log", "choices", "fixed", "off")


def load_space_file(path: str | Path, cfg: RunConfig, catalog) -> tuple[bool, dict]:
    """(derived, {key: Dim | ("fixed", value) | ("off",)}); ConfigError naming file and key."""
    path = Path(path)
    raw = read_toml(path, "space file")
    derived = raw.pop("derived", True)
    if not isinstance(derived, bool):
        raise ConfigError(f"{path}: key 'derived' must be true or false, got {derived!r}")
    entries: dict[str, Any] = {}
    for section, table in raw.items():
        if section not in ("train", "arch", "loss"):
            raise ConfigError(
                f"{path}: unknown key '{section}' (known: derived, train, arch, loss)"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: key '{section}' must be a table, got {table!r}")
        for name, entry in table.items():
            key = f"{section}.{name}"
            default = _default_of(path, key, section, name, cfg, catalog)
            entries[key] = _entry(path, key, entry, default, _checker(section, name, cfg, catalog))
    return derived, entries


def combine(derived_dims: list[Dim], derived: bool, entries: dict) -> tuple[list[Dim], dict]:
    """The dimensions to search and the fixed values, after a space file's entries."""
    dims = {d.key: d for d in derived_dims} if derived else {}
    fixed: dict[str, Any] = {}
    for key, entry in entries.items():
        dims.pop(key, None)
        if isinstance(entry, Dim):
            dims[key] = entry
        elif entry[0] == "fixed":
            fixed[key] = entry[1]
    return list(dims.values()), fixed


def _default_of(path: Path, key: str, section: str, name: str, cfg: RunConfig, catalog) -> Any:
    if section == "train":
        known = {k: v for k, v in TRAIN_DEFAULTS.items() if k not in _FIXED_TRAIN}
        what = "train keys that a trial may vary"
    elif section == "arch":
        known = catalog.architectures[cfg.model.arch].params
        what = f"parameters of architecture '{cfg.model.arch}'"
    else:
        known = catalog.losses[cfg.loss.name].params
        what = f"parameters of loss '{cfg.loss.name}'"
    if name not in known:
        raise ConfigError(
            f"{path}: unknown key '{key}' ({what}: {', '.join(sorted(known)) or 'none'})"
        )
    return known[name]


def _checker(section: str, name: str, cfg: RunConfig, catalog):
    """A function that raises ConfigError (without a location) when a value is not allowed."""
    if section == "train":
        return lambda v: validate({"train": {name: v}}, where="x")
    if section == "arch":
        item = catalog.architectures[cfg.model.arch]
    else:
        item = catalog.losses[cfg.loss.name]
    return lambda v: resolve_params(item, {name: v})


def _entry(path: Path, key: str, entry: Any, default: Any, check) -> Any:
    where = f"{path}: key '{key}'"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table such as {{low = 1, high = 2}}, got {entry!r}")
    unknown = sorted(set(entry) - set(_ENTRY_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown field '{unknown[0]}' (known: {', '.join(_ENTRY_KEYS)})"
        )
    forms = [f for f in ("low", "choices", "fixed", "off") if f in entry]
    if "high" in entry and "low" not in entry:
        forms.append("high")
    if len(forms) != 1:
        raise ConfigError(
            f"{where} must have exactly one of: low and high, choices, fixed, off; "
            f"found {', '.join(forms) or 'none'}"
        )
    form = forms[0]
    if form == "off":
        if entry["off"] is not True:
            raise ConfigError(f"{where}: 'off' must be true, got {entry['off']!r}")
        return ("off",)
    if form == "fixed":
        _check_value(where, "fixed", entry["fixed"], check)
        return ("fixed", entry["fixed"])
    if form == "choices":
        return _choices(key, where, entry["choices"], check)
    return _range(key, where, entry, default, check)


def _choices(key: str, where: str, choices: Any, check) -> Dim:
    if not isinstance(choices, list) or not choices:
        raise ConfigError(f"{where}: 'choices' must be a non-empty list, got {choices!r}")
    labels = [label(c) for c in choices]
    if len(set(map(repr, labels))) != len(labels):
        raise ConfigError(f"{where}: 'choices' holds the same value twice: {choices!r}")
    for c in choices:
        _check_value(where, "choice", c, check)
    return Dim(key, choices=tuple(choices))


def _range(key: str, where: str, entry: dict, default: Any, check) -> Dim:
    low, high, log = entry["low"], entry.get("high"), entry.get("log", False)
    if high is None:
        raise ConfigError(f"{where}: 'low' needs 'high' too")
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: '{name}' must be a number, got {value!r}")
    if isinstance(default, bool) or not isinstance(default, int | float):
        raise ConfigError(
            f"{where}: a range needs a numeric parameter, but its default is {default!r}; "
            "use choices"
        )
    if not isinstance(log, bool):
        raise ConfigError(f"{where}: 'log' must be true or false, got {log!r}")
    if not low < high:
        raise ConfigError(f"{where}: 'low' must be below 'high', got low {low!r}, high {high!r}")
    if log and low <= 0:
        raise ConfigError(f"{where}: a log range needs 'low' above 0, got {low!r}")
    integer = isinstance(default, int)
    if integer and not (isinstance(low, int) and isinstance(high, int)):
        raise ConfigError(
            f"{where}: the parameter is an integer, so 'low' and 'high' must be integers"
        )
    for name, value in (("low", low), ("high", high)):
        _check_value(where, name, value, check)
    return Dim(key, low, high, log=log, integer=integer)


def _check_value(where: str, what: str, value: Any, check) -> None:
    try:
        check(value)
    except ConfigError as exc:
        reason = str(exc)
        reason = reason.split(": ", 1)[1] if reason.startswith("x: ") else reason
        raise ConfigError(f"{where}: {what} value {value!r} is not allowed ({reason})") from None
