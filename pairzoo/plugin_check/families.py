"""The tests of each plugin family, one table row each (see :mod:`pairzoo.plugin_check`)."""

from __future__ import annotations

from pathlib import Path

from pairzoo import contract
from pairzoo.catalog import SINGULAR, resolve_params
from pairzoo.errors import PairzooError
from pairzoo.plugin_check.learning import learns, onnx_parity
from pairzoo.plugin_check.model_checks import (
    HEAD_FEAT_DIM,
    Skip,
    antisymmetric,
    backward,
    forward_aux,
    head_backward,
    head_swap,
    loss_backward,
    rule_labels,
    rule_swap,
    swap,
)
from pairzoo.plugin_check.result import FAIL, PASS, SKIP, Result
from pairzoo.plugins import _build, build_architecture, catalog

# The small builtin model a fusion head or a loss is trained inside.
HOST_ARCH = "baseline"
HOST_PARAMS = {"width_mult": 0.25, "feat_dim": 16, "antisymmetric": False}


class Rows:
    """Runs one test at a time for one item and reports its row; a failure skips what needs it."""

    def __init__(self, item, report):
        self.name = f"{SINGULAR[item.family]} {item.name}"
        self.prefix = catalog().label(item) + ": "
        self.report = report
        self.failed: str | None = None

    def __call__(self, test: str, fn, needed: bool = False):
        if self.failed:
            self.report(Result(self.name, test, SKIP, f"needs {self.failed}"))
            return None
        try:
            value, detail = fn()
        except Skip as why:
            self.report(Result(self.name, test, SKIP, str(why)))
            return None
        except Exception as exc:  # every failure is a row, whatever raised it
            self.report(Result(self.name, test, FAIL, self._one_line(exc)))
            if needed:
                self.failed = test
            return None
        self.report(Result(self.name, test, PASS, detail))
        return value

    def _one_line(self, exc: Exception) -> str:
        plain = isinstance(exc, PairzooError | AssertionError)  # their message says it all
        text = str(exc) if plain else f"{type(exc).__name__}: {exc}"
        text = text.removeprefix(self.prefix)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[0] if lines else type(exc).__name__


def check_architecture(item, arch_params: dict, tmp: str, report) -> None:
    rows = Rows(item, report)
    params = resolve_params(item, arch_params)
    model = rows("build", lambda: (_build(item, arch_params), _params_text(params)), needed=True)
    rows("contract", lambda: _contract(model, catalog().label(item)), needed=True)
    rows("forward_aux", lambda: forward_aux(model))
    rows("backward", lambda: (None, backward(model)))
    rows("onnx parity", lambda: (None, onnx_parity(model, Path(tmp) / f"{item.name}.onnx")))
    rows("swap", lambda: (None, swap(item, model, arch_params)))
    rows("learning", lambda: (None, learns(item.name, params, "bce", "greater", tmp)))


def check_fusion_head(item, arch_params: dict, tmp: str, report) -> None:
    rows = Rows(item, report)
    head = rows("build", lambda: (_build(item, {}, HEAD_FEAT_DIM), ""), needed=True)
    rows(
        "contract",
        lambda: (
            contract.check_fusion_head(head, HEAD_FEAT_DIM, catalog().label(item)),
            _HEAD_CONTRACT,
        ),
        needed=True,
    )
    rows("backward", lambda: (None, head_backward(head)))
    rows("swap", lambda: (None, head_swap(head)))
    # A symmetric head cannot tell the order the easy data's rule needs: it learns in the mix.
    heads = ["concat", item.name] if getattr(head, "symmetric", False) else [item.name]
    host = {**HOST_PARAMS, "heads": heads}
    model = rows("in a model", lambda: (build_architecture(HOST_ARCH, host), _host(host)), True)
    rows("onnx parity", lambda: (None, onnx_parity(model, Path(tmp) / f"head-{item.name}.onnx")))
    rows("learning", lambda: (None, learns(HOST_ARCH, host, "bce", "greater", tmp)))


def check_loss(item, arch_params: dict, tmp: str, report) -> None:
    rows = Rows(item, report)
    loss = rows("build", lambda: (_build(item, {}), ""), needed=True)
    rows(
        "contract", lambda: (contract.check_loss(loss, catalog().label(item)), _LOSS_CONTRACT), True
    )
    rows("backward", lambda: (None, loss_backward(loss)))
    host = {**HOST_PARAMS, "heads": ["concat"]}

    def learning():
        if getattr(loss, "needs_teacher", False):
            raise Skip("learns from a teacher's logits (`pairzoo distill` trains with it)")
        return None, learns(HOST_ARCH, host, item.name, "greater", tmp)

    rows("learning", learning)


def check_label_rule(item, arch_params: dict, tmp: str, report) -> None:
    rows = Rows(item, report)
    rule = item.obj
    labels = rows("labels", lambda: rule_labels(rule), needed=True)
    rows("swap", lambda: (None, rule_swap(rule, labels)))


CHECKS = {
    "architectures": check_architecture,
    "fusion_heads": check_fusion_head,
    "losses": check_loss,
    "label_rules": check_label_rule,
}

_CONTRACT = "xa, xb float32 (N, 1, 28, 28) -> finite float logits (N,), at N = 2 and 1"
_HEAD_CONTRACT = f"ea, eb (N, {HEAD_FEAT_DIM}) -> finite float (N,)"
_LOSS_CONTRACT = "logits, targets (N,) -> finite float scalar with a gradient"


def _params_text(params: dict) -> str:
    import json

    return ", ".join(f"{k}={json.dumps(v)}" for k, v in params.items())


def _host(params: dict) -> str:
    return f"{HOST_ARCH}({_params_text(params)})"


def _contract(model, label: str):
    contract.check_architecture(model, label)
    return model, _CONTRACT + (", f(a, b) = -f(b, a)" if antisymmetric(model) else "")
