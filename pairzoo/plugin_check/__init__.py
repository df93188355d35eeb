"""`pairzoo plugins check`: the tests the builtins get from the suite, run on one plugin's items.

Architectures get forward (the contract), forward_aux, backward, ONNX export with parity at
several batch sizes, swap behaviour and a learning test on easy data; fusion heads and losses get
their contract, backward (heads: and swap behaviour) and the learning test inside a small builtin
model; label rules get their labels and swap behaviour. The single tests are
:mod:`pairzoo.plugin_check.model_checks`, which tests/test_models.py runs on every
builtin. Each test is one row of a table (:mod:`pairzoo.plugin_check.result`); nothing is
written outside a temporary directory.
"""

from __future__ import annotations

from typing import Any

from pairzoo.catalog import FAMILIES
from pairzoo.errors import PluginError
from pairzoo.plugin_check import families
from pairzoo.plugin_check.result import FAIL, PASS, SKIP, Result
from pairzoo.plugins import catalog

__all__ = ["FAIL", "PASS", "SKIP", "Result", "check", "items_of"]


def items_of(name: str):
    """The registered items of plugin `name`, or the one item called `name`; PluginError else."""
    cat = catalog()
    info = cat.plugin(name)
    if info is not None:
        if info.error:
            raise PluginError(f"plugin '{name}' is broken: {info.error}")
        found = [cat.family(f)[n] for f, names in info.registered.items() for n in names]
        if not found:
            raise PluginError(f"plugin '{name}' {info.warning or 'registered nothing'}")
        return found
    found = [cat.family(f)[name] for f in FAMILIES if name in cat.family(f)]
    if found:
        return found
    known = ", ".join(p.name for p in cat.plugins)
    raise PluginError(
        f"no plugin or registered item named '{name}' (plugins: {known}; `pairzoo plugins` lists "
        "what each registered)"
    )


def check(name: str, arch_params: dict[str, Any] | None = None, on_result=None) -> list[Result]:
    """Run every test on the items of plugin (or item) `name`; `on_result` sees each row."""
    import tempfile

    results: list[Result] = []

    def report(result: Result) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    with tempfile.TemporaryDirectory(prefix="pairzoo-check-") as tmp:
        for item in items_of(name):
            families.CHECKS[item.family](item, dict(arch_params or {}), tmp, report)
    return results
