"""What plugins registered: typed records with provenance, and the validating `register` callback."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pairzoo.checks import check_type
from pairzoo.errors import ConfigError, PluginError

FAMILIES = ("architectures", "fusion_heads", "losses", "label_rules")
SINGULAR = {
    "architectures": "architecture",
    "fusion_heads": "fusion head",
    "losses": "loss",
    "label_rules": "label rule",
}
_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_PARAM_TYPES = (bool, int, float, str, list, tuple, type(None))


@dataclass(frozen=True)
class Registered:
    name: str
    family: str
    obj: Any  # factory callable, or the LabelRule itself
    params: dict[str, Any]
    description: str
    plugin: str
    plugin_version: str
    # parameter -> how `pairzoo tune` searches it: {"scale": k} (log, from v / k to v * k around
    # the run's value v) or {"low": a, "high": b, "log": False} (widened to hold v)
    tunable: dict[str, dict[str, Any]] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": dict(self.params),
            "description": self.description,
            "plugin": self.plugin,
            "plugin_version": self.plugin_version,
        }


@dataclass
class PluginInfo:
    name: str
    version: str
    source: str  # "builtin", "entry point (dist NAME)", or "file PATH"
    registered: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None
    warning: str | None = None  # e.g. it registered nothing, and why that may be
    home: str | None = None  # the plugin module's file, or its package's directory

    def where(self) -> str:
        """The plugin's name and, for a loose file, its path: how an error names the plugin."""
        path = self.source[len("file ") :] if self.source.startswith("file ") else ""
        return f"{self.name}, {path}" if path else self.name


@dataclass
class Catalog:
    plugins: list[PluginInfo] = field(default_factory=list)
    architectures: dict[str, Registered] = field(default_factory=dict)
    fusion_heads: dict[str, Registered] = field(default_factory=dict)
    losses: dict[str, Registered] = field(default_factory=dict)
    label_rules: dict[str, Registered] = field(default_factory=dict)
    # (family, name) -> message, for names that two plugins registered: unusable until one goes
    conflicts: dict[tuple[str, str], str] = field(default_factory=dict)

    def family(self, family: str) -> dict[str, Registered]:
        return getattr(self, family)

    def broken(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.error]

    def order_aware_heads(self) -> list[str]:
        """Fusion heads whose factory does not declare ``symmetric = True``, sorted: the ones an
        antisymmetric model can keep."""
        heads = self.fusion_heads.items()
        return sorted(n for n, item in heads if not getattr(item.obj, "symmetric", False))

    def plugin(self, name: str) -> PluginInfo | None:
        return next((p for p in self.plugins if p.name == name), None)

    def label(self, item: Registered) -> str:
        """``architecture 'NAME' (PLUGIN[, FILE])``: the prefix of every error about `item`."""
        info = self.plugin(item.plugin)
        return f"{SINGULAR[item.family]} '{item.name}' ({info.where() if info else item.plugin})"

    def get(self, family: str, name: str) -> Registered:
        if (family, name) in self.conflicts:
            raise PluginError(self.conflicts[family, name])
        items = self.family(family)
        if name in items:
            return items[name]
        available = ", ".join(sorted(items)) or "none"
        message = f"unknown {SINGULAR[family]} '{name}' (available: {available})"
        broken = self.broken()
        if broken:
            message += "; plugins that failed to load: " + "; ".join(
                f"'{p.name}' ({p.error})" for p in broken
            )
        idle = [p for p in self.plugins if p.warning and not p.error]
        if idle:
            message += "; " + "; ".join(f"plugin '{p.name}' {p.warning}" for p in idle)
        raise PluginError(message)


def make_register(catalog: Catalog, family: str, info: PluginInfo):
    """Build the `register` callback handed to one plugin's hook for one family."""

    def register(name, factory=None, params=None, description="", tunable=None):
        if family == "label_rules":
            rule = name
            name, factory, params = getattr(rule, "name", None), rule, {}
            description = getattr(rule, "description", "")
        _check_item(info.name, family, name, factory, params)
        _check_tunable(
            f"plugin '{info.name}' registered {SINGULAR[family]} '{name}'", params, tunable
        )
        items = catalog.family(family)
        if name in items:
            message = (
                f"{SINGULAR[family]} '{name}' is registered twice: by plugin "
                f"'{items[name].plugin}' and by plugin '{info.name}'; uninstall or rename one"
            )
            catalog.conflicts[family, name] = message
            raise PluginError(message)
        items[name] = Registered(
            name, family, factory, dict(params or {}), description, info.name, info.version,
            {k: dict(v) for k, v in (tunable or {}).items()},
        )  # fmt: skip
        info.registered.setdefault(family, []).append(name)

    return register


def drop_unusable(catalog: Catalog) -> None:
    """Remove what broken plugins registered and every name that two plugins claimed."""
    broken = {p.name for p in catalog.broken()}
    for family in FAMILIES:
        items = catalog.family(family)
        for name in list(items):
            if items[name].plugin in broken or (family, name) in catalog.conflicts:
                del items[name]
    for info in catalog.plugins:
        if info.error:
            info.registered = {}


def _check_item(plugin: str, family: str, name, factory, params) -> None:
    what = f"plugin '{plugin}' registered {SINGULAR[family]}"
    if not isinstance(name, str) or not _NAME.match(name):
        raise PluginError(
            f"{what} with invalid name {name!r} (expected lower-case letters, digits, _ . -)"
        )
    if not callable(factory):
        raise PluginError(f"{what} '{name}' with a factory that is not callable: {factory!r}")
    if params is not None and not isinstance(params, dict):
        raise PluginError(f"{what} '{name}' with params {params!r}, expected a dict of defaults")
    for key, value in (params or {}).items():
        if not isinstance(key, str) or not isinstance(value, _PARAM_TYPES):
            raise PluginError(
                f"{what} '{name}' with parameter {key!r} default {value!r}: expected a name and a "
                "bool, int, float, str, list or None default"
            )


def _check_tunable(what: str, params, tunable) -> None:
    if tunable is None:
        return
    if not isinstance(tunable, dict):
        raise PluginError(f"{what} with tunable {tunable!r:.80}, expected a dict by parameter")
    for key, spec in tunable.items():
        default = (params or {}).get(key)
        number = isinstance(default, int | float) and not isinstance(default, bool)
        if not number:
            raise PluginError(f"{what} with tunable {key!r}, which is no numeric parameter of it")
        if not _valid_spec(spec):
            raise PluginError(
                f"{what} with tunable {key!r} {spec!r:.80}: expected {{'scale': K}} with K > 1, "
                "or {'low': A, 'high': B} with A < B and an optional 'log': True"
            )


def _valid_spec(spec) -> bool:
    def num(v) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    if not isinstance(spec, dict):
        return False
    if set(spec) == {"scale"}:
        return num(spec["scale"]) and spec["scale"] > 1
    if not {"low", "high"} <= set(spec) <= {"low", "high", "log"}:
        return False
    log = spec.get("log", False)
    ok = num(spec["low"]) and num(spec["high"]) and spec["low"] < spec["high"]
    return ok and isinstance(log, bool) and not (log and spec["low"] <= 0)


def resolve_params(item: Registered, given: dict[str, Any] | None) -> dict[str, Any]:
    """Defaults overlaid with `given`; unknown names and wrongly typed values raise ConfigError."""
    params = dict(item.params)
    for key, value in (given or {}).items():
        if key not in params:
            known = ", ".join(sorted(params)) or "none"
            raise ConfigError(
                f"{SINGULAR[item.family]} '{item.name}' has no parameter '{key}' (parameters: {known})"
            )
        params[key] = _coerce(item, key, params[key], value)
    return params


def _coerce(item: Registered, key: str, default: Any, value: Any) -> Any:
    if default is None or value is None:  # a None default takes any value; None means "unset"
        return value
    return check_type(f"{SINGULAR[item.family]} '{item.name}' parameter '{key}'", default, value)
