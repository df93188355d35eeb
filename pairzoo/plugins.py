"""The plugin manager: builtins, installed packages and loose files, all loaded by one path.

Builtin plugins are modules named in ``BUILTIN_PLUGINS``; third-party packages declare modules in
the ``pairzoo`` entry-point group; ``--plugins-dir`` / ``PAIRZOO_PLUGINS_DIR`` adds loose ``.py``
files. A plugin that fails to import or to register is listed as broken with its error and
contributes nothing; the others keep working. A name that two plugins register is unusable until
one of them is removed: asking for it names both.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pluggy

from pairzoo import __version__, hookspecs
from pairzoo.catalog import (
    FAMILIES,
    SINGULAR,
    Catalog,
    PluginInfo,
    Registered,
    drop_unusable,
    make_register,
    resolve_params,
)
from pairzoo.contract import check_architecture, check_fusion_head, check_loss
from pairzoo.errors import ConfigError, PairzooError, PluginError

ENTRY_POINT_GROUP = "pairzoo"
PLUGINS_DIR_ENV = "PAIRZOO_PLUGINS_DIR"
BUILTIN_PLUGINS = (
    "pairzoo_plugins.architectures",
    "pairzoo_plugins.fusion_heads",
    "pairzoo_plugins.digit_posterior",
    "pairzoo_plugins.losses",
    "pairzoo_plugins.label_rules",
)

_catalog: Catalog | None = None
_plugins_dir: str | None = None


def load_plugins(plugins_dir: str | os.PathLike | None = None) -> Catalog:
    """(Re)load every plugin; `plugins_dir` defaults to $PAIRZOO_PLUGINS_DIR. Safe to call twice."""
    global _catalog, _plugins_dir
    _plugins_dir = str(plugins_dir) if plugins_dir else os.environ.get(PLUGINS_DIR_ENV) or None
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    infos: list[PluginInfo] = []
    modules: dict[str, Any] = {}
    for module_name in BUILTIN_PLUGINS:
        infos.append(
            _load(
                pm,
                module_name,
                lambda m=module_name: importlib.import_module(m),
                "builtin",
                __version__,
                modules,
            )
        )
    for ep in sorted(
        importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name
    ):
        dist = ep.dist.name if ep.dist else "unknown"
        version = ep.dist.version if ep.dist else "unknown"
        infos.append(
            _load(pm, f"{dist}.{ep.name}", ep.load, f"entry point ({dist})", version, modules)
        )
    for path in _loose_files(_plugins_dir):
        infos.append(
            _load(
                pm,
                f"file:{path.stem}",
                lambda p=path: _import_file(p),
                f"file {path}",
                None,
                modules,
            )
        )
    pm.check_pending()
    _catalog = _collect(pm, infos)
    for info in _catalog.plugins:
        if not info.error and info.name in modules:
            info.warning = _idle_warning(modules[info.name], info)
    return _catalog


def use_plugins_dir(plugins_dir: str | os.PathLike | None) -> Callable[[], None]:
    """Make `plugins_dir` the directory every later load reads, here and in the worker processes
    this one spawns (they inherit $PAIRZOO_PLUGINS_DIR); the plugin catalog loads afresh on next use.
    Returns the function that puts the previous setting back (None: nothing changes)."""
    global _catalog, _plugins_dir
    if not plugins_dir:
        return lambda: None
    previous = os.environ.get(PLUGINS_DIR_ENV)
    os.environ[PLUGINS_DIR_ENV] = _plugins_dir = str(plugins_dir)
    _catalog = None

    def restore() -> None:
        if previous is None:
            os.environ.pop(PLUGINS_DIR_ENV, None)
        else:
            os.environ[PLUGINS_DIR_ENV] = previous

    return restore


def catalog() -> Catalog:
    """The current plugin catalog, loading plugins on first use."""
    return _catalog if _catalog is not None else load_plugins(_plugins_dir)


def loaded_catalog() -> Catalog | None:
    """The plugin catalog if plugins were loaded in this process, without loading them."""
    return _catalog


def _load(pm, name: str, importer, source: str, version: str | None, modules) -> PluginInfo:
    info = PluginInfo(name=name, version=version or "unknown", source=source)
    try:
        module = importer()
        modules[name] = module
        info.home = _home(module)
        if version is None:
            info.version = str(getattr(module, "__version__", "unknown"))
        pm.register(module, name=name)
        _check_hooks(pm, module, name)
    except Exception as exc:  # a broken plugin must not take the others down
        info.error = f"{type(exc).__name__}: {exc}"
    return info


def _check_hooks(pm, module, name: str) -> None:
    # check_pending() would fail every plugin for one misspelt hook; fail only the one plugin.
    unknown = sorted(h.name for h in pm.get_hookcallers(module) or [] if not h.has_spec())
    if unknown:
        pm.unregister(module, name=name)
        known = ", ".join(f"register_{family}" for family in FAMILIES)
        raise PluginError(f"unknown hook {', '.join(unknown)} (known hooks: {known})")


def _home(module) -> str | None:
    """Where the plugin's code lives: its package's directory, or its module's file."""
    file = getattr(module, "__file__", None)
    if not file:
        return None
    return os.path.dirname(file) if hasattr(module, "__path__") else file


def _idle_warning(module, info: PluginInfo) -> str | None:
    """Why a plugin that loaded may give nothing: hook-named functions without @hookimpl."""
    marker = f"{hookspecs.PROJECT}_impl"
    unmarked = sorted(
        name
        for name, value in vars(module).items()
        if name.startswith("register_")
        and inspect.isfunction(value)
        and value.__module__ == module.__name__
        and not hasattr(value, marker)
    )
    if unmarked:
        what = "registered nothing" if not info.registered else "registered less than it defines"
        names = ", ".join(unmarked)
        return (
            f"{what}: {names} {'is' if len(unmarked) == 1 else 'are'} not marked @hookimpl, so "
            "pairzoo never calls it (add `from pairzoo.hookspecs import hookimpl` and decorate it)"
        )
    if not info.registered:
        known = ", ".join(f"register_{family}" for family in FAMILIES)
        return f"registered nothing: it implements none of the hooks ({known})"
    return None


def _loose_files(plugins_dir: str | None) -> list[Path]:
    if not plugins_dir:
        return []
    directory = Path(plugins_dir)
    if not directory.is_dir():
        raise PluginError(f"plugins directory '{directory}' does not exist or is not a directory")
    return sorted(p for p in directory.glob("*.py") if not p.name.startswith("_"))


def _import_file(path: Path):
    module_name = f"pairzoo_local_plugins.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _collect(pm, infos: list[PluginInfo]) -> Catalog:
    cat = Catalog(plugins=infos)
    by_name = {info.name: info for info in infos}
    for family in FAMILIES:
        hook = getattr(pm.hook, f"register_{family}")
        for impl in hook.get_hookimpls():  # registration order: builtins, entry points, files
            info = by_name[impl.plugin_name]
            if info.error:
                continue
            try:
                impl.function(register=make_register(cat, family, info))
            except PluginError as exc:
                info.error = str(exc)
            except Exception as exc:
                info.error = f"register_{family} failed: {type(exc).__name__}: {exc}"
    drop_unusable(cat)
    return cat


def get_registered(family: str, name: str) -> Registered:
    return catalog().get(family, name)


def build_architecture(name: str, params: dict[str, Any] | None = None):
    """The architecture's model, checked on a tiny batch against the contract every consumer
    relies on (:func:`pairzoo.contract.check_architecture`); PluginError names a breach."""
    item = get_registered("architectures", name)
    return check_architecture(_build(item, params), catalog().label(item))


def build_fusion_head(name: str, feat_dim: int, params: dict[str, Any] | None = None):
    item = get_registered("fusion_heads", name)
    return check_fusion_head(_build(item, params, feat_dim), feat_dim, catalog().label(item))


def build_loss(name: str, params: dict[str, Any] | None = None):
    item = get_registered("losses", name)
    return check_loss(_build(item, params), catalog().label(item))


def get_label_rule(name: str):
    return get_registered("label_rules", name).obj


def _build(item: Registered, given: dict[str, Any] | None, *args):
    params = resolve_params(item, given)
    try:
        return item.obj(*args, **params)
    except PairzooError:
        raise  # e.g. a fusion head the architecture builds: already named
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{SINGULAR[item.family]} '{item.name}': {exc}") from exc
    except Exception as exc:  # a bug in the plugin's own code: name the plugin and the item
        raise PluginError(f"{catalog().label(item)}: {type(exc).__name__}: {exc}") from exc
