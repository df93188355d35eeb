"""The tests of each plugin family, one table row each (see :mod:`pairzoo.plugin_check`)."""

from __future__ import annotations

from pathlib import Path

from pairzoo.plugin_check import FAIL, PASS, SKIP, Result
from pairzoo.plugin_check.learning import learns, onnx_parity

# The small builtin model a fusion head or a loss is trained inside.
HOST_ARCH = "baseline"
HOST_PARAMS = {"width_mult": 0.25, "feat_dim": 16, "antisymmetric": False}
HEAD_FEAT_DIM = 16


class Skip(Exception):
    """A test that does not apply to this item; its message says why."""


class Rows:
    """Runs one test at a time for one item and reports its row; a failure skips what needs it."""

    def __init__(self, item, report):
        from pairzoo.catalog import SINGULAR
        from pairzoo.plugins import catalog

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
        from pairzoo.errors import PairzooError

        plain = isinstance(exc, PairzooError | AssertionError)  # their message says it all
        text = str(exc) if plain else f"{type(exc).__name__}: {exc}"
        text = text.removeprefix(self.prefix)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[0] if lines else type(exc).__name__


def check_architecture(item, arch_params: dict, tmp: str, report) -> None:
    from pairzoo.catalog import resolve_params
    from pairzoo.plugins import _build, catalog

    rows = Rows(item, report)
    params = resolve_params(item, arch_params)
    model = rows("build", lambda: (_build(item, arch_params), _params_text(params)), needed=True)
    rows("contract", lambda: _contract(model, catalog().label(item)), needed=True)
    rows("forward_aux", lambda: _forward_aux(model))
    rows("backward", lambda: (None, _backward(model)))
    rows("onnx parity", lambda: (None, onnx_parity(model, Path(tmp) / f"{item.name}.onnx")))
    rows("swap", lambda: (None, _swap(item, model, arch_params)))
    rows("learning", lambda: (None, learns(item.name, params, "bce", "greater", tmp)))


def check_fusion_head(item, arch_params: dict, tmp: str, report) -> None:
    from pairzoo.contract import check_fusion_head as contract
    from pairzoo.plugins import _build, build_architecture, catalog

    rows = Rows(item, report)
    head = rows("build", lambda: (_build(item, {}, HEAD_FEAT_DIM), ""), needed=True)
    rows(
        "contract",
        lambda: (contract(head, HEAD_FEAT_DIM, catalog().label(item)), _HEAD_CONTRACT),
        needed=True,
    )
    rows("backward", lambda: (None, _head_backward(head)))
    # A symmetric head cannot tell the order the easy data's rule needs: it learns in the mix.
    heads = ["concat", item.name] if getattr(head, "symmetric", False) else [item.name]
    host = {**HOST_PARAMS, "heads": heads}
    model = rows("in a model", lambda: (build_architecture(HOST_ARCH, host), _host(host)), True)
    rows("onnx parity", lambda: (None, onnx_parity(model, Path(tmp) / f"head-{item.name}.onnx")))
    rows("learning", lambda: (None, learns(HOST_ARCH, host, "bce", "greater", tmp)))


def check_loss(item, arch_params: dict, tmp: str, report) -> None:
    from pairzoo.contract import check_loss as contract
    from pairzoo.plugins import _build, catalog

    rows = Rows(item, report)
    loss = rows("build", lambda: (_build(item, {}), ""), needed=True)
    rows("contract", lambda: (contract(loss, catalog().label(item)), _LOSS_CONTRACT), True)
    rows("backward", lambda: (None, _loss_backward(loss)))
    host = {**HOST_PARAMS, "heads": ["concat"]}

    def learning():
        if getattr(loss, "needs_teacher", False):
            raise Skip("learns from a teacher's logits (`pairzoo distill` trains with it)")
        return None, learns(HOST_ARCH, host, item.name, "greater", tmp)

    rows("learning", learning)


def check_label_rule(item, arch_params: dict, tmp: str, report) -> None:
    rows = Rows(item, report)
    rule = item.obj
    labels = rows("labels", lambda: _rule_labels(rule), needed=True)
    rows("swap", lambda: (None, _rule_swap(rule, labels)))


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
    from pairzoo.contract import check_architecture

    check_architecture(model, label)
    return model, _CONTRACT + (", f(a, b) = -f(b, a)" if _antisymmetric(model) else "")


def _pairs(n: int, seed: int = 0):
    import torch

    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.rand(n, 1, 28, 28, generator=g)


def _forward_aux(model):
    import torch

    aux = getattr(model, "forward_aux", None)
    if not callable(aux):
        raise Skip("no forward_aux: optional; --aux-weight then has no effect on this model")
    xa, xb = _pairs(3)
    model.eval()
    with torch.no_grad():
        out, logit = aux(xa, xb), model(xa, xb)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise AssertionError(f"forward_aux returned {type(out).__name__}, expected (logit, digits)")
    got, digits = out
    if tuple(digits.shape) != (3, 2, 10):
        raise AssertionError(f"digit logits have shape {tuple(digits.shape)}, expected (3, 2, 10)")
    if not torch.allclose(got, logit, atol=1e-5):
        raise AssertionError("its logit differs from forward's on the same pairs")
    return None, "logit (N,) as forward's, digit logits (N, 2, 10)"


def _backward(model) -> str:

    model.train()
    xa, xb = _pairs(4)
    aux = getattr(model, "forward_aux", None)
    if callable(aux):
        logit, digits = aux(xa, xb)
        loss = logit.sum() + digits.square().mean()
    else:
        loss = model(xa, xb).sum()
    model.zero_grad()
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise AssertionError(f"no gradient reaches {len(missing)} parameter(s): {shown}")
    total = sum(float(p.grad.abs().sum()) for p in model.parameters() if p.grad is not None)
    if not total > 0:
        raise AssertionError("every gradient is zero")
    count = sum(1 for p in model.parameters() if p.requires_grad)
    model.eval()
    return f"gradients reach all {count} parameter tensors"


def _swap(item, model, arch_params: dict) -> str:
    import torch

    from pairzoo.plugins import _build

    if "antisymmetric" in item.params and not _antisymmetric(model):
        torch.manual_seed(0)  # the parameter's other value, as the suite tests it
        model = _build(item, {**arch_params, "antisymmetric": True})
    if not _antisymmetric(model):
        raise Skip("declares no antisymmetry: the trainer's swap augmentation teaches the order")
    model.eval()
    xa, xb = _pairs(4, seed=1)
    with torch.no_grad():
        ab, ba = model(xa, xb), model(xb, xa)
    if not float(ab.abs().max()) > 0:
        raise AssertionError("antisymmetric, but every logit is 0")
    gap = float((ab + ba).abs().max())
    if gap > 1e-5:
        raise AssertionError(f"antisymmetric=true, but max |f(a, b) + f(b, a)| is {gap:.3g}")
    return f"antisymmetric: swapping the images negates the logit (max |f(a,b) + f(b,a)| {gap:.2g})"


def _antisymmetric(model) -> bool:
    return any(getattr(m, "antisymmetric", False) for m in model.modules())


def _head_backward(head) -> str:
    import torch

    head.train()
    ea = torch.randn(4, HEAD_FEAT_DIM, requires_grad=True)
    eb = torch.randn(4, HEAD_FEAT_DIM, requires_grad=True)
    head(ea, eb).sum().backward()
    missing = [n for n, p in head.named_parameters() if p.requires_grad and p.grad is None]
    if missing:
        raise AssertionError(f"no gradient reaches parameter(s): {', '.join(missing[:3])}")
    if ea.grad is None or not float(ea.grad.abs().sum() + eb.grad.abs().sum()) > 0:
        raise AssertionError("no gradient reaches the embeddings: the tower could not learn")
    return "gradients reach its parameters and both embeddings"


def _loss_backward(loss) -> str:
    import torch

    logits = torch.tensor([1.5, -0.5, 0.25, -2.0], requires_grad=True)
    targets = torch.tensor([0.0, 1.0, 1.0, 0.0])
    extra = (torch.tensor([2.0, -1.0, 0.5, -1.5]),) if getattr(loss, "needs_teacher", False) else ()
    loss(logits, targets, *extra).backward()
    grad = logits.grad
    if grad is None or not bool(torch.isfinite(grad).all()) or not float(grad.abs().sum()) > 0:
        raise AssertionError("no finite, non-zero gradient reaches the logits")
    # Wrong logits (label 1 scored low) must be pushed up: the gradient's sign says so.
    if not float(grad[1]) < 0:
        raise AssertionError("the loss does not fall as the logit of a label-1 pair rises")
    return "gradient reaches the logits, and lowers the loss of a wrongly scored pair"


def _rule_labels(rule):
    import numpy as np

    left, right = np.divmod(np.arange(100), 10)
    labels = np.asarray(rule(left, right))
    if labels.shape != (100,) or not np.isin(labels, (0, 1)).all():
        raise AssertionError(
            f"labels of the 100 digit pairs have shape {labels.shape} and values "
            f"{sorted(set(labels.ravel().tolist()))[:5]}, expected (100,) in {{0, 1}}"
        )
    share = float(labels.mean())
    return labels, f"labels in {{0, 1}} for all 100 digit pairs ({share:.0%} ones)"


def _rule_swap(rule, labels) -> str:
    import numpy as np

    swapped = labels.reshape(10, 10).T.ravel()
    differ = np.arange(100) // 10 != np.arange(100) % 10
    if rule.on_swap == "none":
        raise Skip("on_swap 'none': the trainer does not swap pairs of this rule")
    expected = 1 - labels if rule.on_swap == "flip" else labels
    bad = int(((swapped != expected) & differ).sum())
    if bad:
        raise AssertionError(
            f"on_swap '{rule.on_swap}', but swapping the digits of {bad} pair(s) does not "
            f"{'flip' if rule.on_swap == 'flip' else 'keep'} the label"
        )
    return f"on_swap '{rule.on_swap}' holds for every pair of different digits"
