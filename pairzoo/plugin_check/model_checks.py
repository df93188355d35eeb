"""The single tests of `pairzoo plugins check`, one function each, that the builtins' suite runs too.

Each raises AssertionError naming what is wrong, or Skip where the test does not apply, and
returns the row's detail; tests/test_models.py calls them on every registered item, so the
builtins and a plugin are held to the same checks.
"""

from __future__ import annotations

from pairzoo.plugins import _build

HEAD_FEAT_DIM = 16  # the embedding width a fusion head is built for and tested at


class Skip(Exception):
    """A test that does not apply to this item; its message says why."""


def pairs(n: int, seed: int = 0):
    """Two float32 (n, 1, 28, 28) batches of uniform noise, the same for the same seed."""
    import torch

    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.rand(n, 1, 28, 28, generator=g)


def forward_aux(model):
    """((logit, digit logits), detail): forward_aux's logit is forward's, its digits (N, 2, 10)."""
    import torch

    aux = getattr(model, "forward_aux", None)
    if not callable(aux):
        raise Skip("no forward_aux: optional; --aux-weight then has no effect on this model")
    xa, xb = pairs(3)
    model.eval()
    with torch.no_grad():
        out, logit = aux(xa, xb), model(xa, xb)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise AssertionError(f"forward_aux returned {type(out).__name__}, expected (logit, digits)")
    got, digits = out
    if tuple(digits.shape) != (3, 2, 10):
        raise AssertionError(f"digit logits have shape {tuple(digits.shape)}, expected (3, 2, 10)")
    try:  # same shape and dtype, and equal within float32 rounding
        torch.testing.assert_close(got, logit)
    except AssertionError:
        raise AssertionError("its logit differs from forward's on the same pairs") from None
    return out, "logit (N,) as forward's, digit logits (N, 2, 10)"


def backward(model) -> str:
    """Gradients of the logit (and the digit logits, where there are) reach every parameter."""
    model.train()
    xa, xb = pairs(4)
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


def swap(item, model, arch_params: dict) -> str:
    """An antisymmetric model (or the item built so) negates its logit when the images swap."""
    import torch

    if "antisymmetric" in item.params and not antisymmetric(model):
        torch.manual_seed(0)  # the parameter's other value, as the suite tests it
        model = _build(item, {**arch_params, "antisymmetric": True})
    if not antisymmetric(model):
        raise Skip("declares no antisymmetry: the trainer's swap augmentation teaches the order")
    model.eval()
    xa, xb = pairs(4, seed=1)
    with torch.no_grad():
        ab, ba = model(xa, xb), model(xb, xa)
    if not float(ab.abs().max()) > 0:
        raise AssertionError("antisymmetric, but every logit is 0")
    gap = float((ab + ba).abs().max())
    if gap > 1e-5:
        raise AssertionError(f"antisymmetric=true, but max |f(a, b) + f(b, a)| is {gap:.3g}")
    return f"antisymmetric: swapping the images negates the logit (max |f(a,b) + f(b,a)| {gap:.2g})"


def antisymmetric(model) -> bool:
    return any(getattr(m, "antisymmetric", False) for m in model.modules())


def head_backward(head) -> str:
    """Gradients of a fusion head's output reach its parameters and both embeddings."""
    import torch

    head.train()
    ea = torch.randn(4, HEAD_FEAT_DIM, requires_grad=True)
    eb = torch.randn(4, HEAD_FEAT_DIM, requires_grad=True)
    head(ea, eb).sum().backward()
    missing = [n for n, p in head.named_parameters() if p.requires_grad and p.grad is None]
    if missing:
        raise AssertionError(f"no gradient reaches parameter(s): {', '.join(missing[:3])}")
    for name, e in (("ea", ea), ("eb", eb)):
        if e.grad is None or not float(e.grad.abs().sum()) > 0:
            raise AssertionError(f"no gradient reaches embedding {name}: the tower could not learn")
    return "gradients reach its parameters and both embeddings"


def head_swap(head) -> str:
    """`symmetric` tells the truth: swapping the embeddings keeps the output if it says so, and
    changes it if not (an antisymmetric model leaves the symmetric heads out)."""
    import torch

    g = torch.Generator().manual_seed(2)
    ea, eb = (torch.randn(5, HEAD_FEAT_DIM, generator=g) for _ in range(2))
    head.eval()
    with torch.no_grad():
        ab, ba = head(ea, eb), head(eb, ea)
    gap = float((ab - ba).abs().max())
    if getattr(head, "symmetric", False):
        if not torch.allclose(ba, ab, atol=1e-5, rtol=1e-5):
            raise AssertionError(f"symmetric = True, but max |f(a, b) - f(b, a)| is {gap:.3g}")
        return (
            f"symmetric: swapping the embeddings keeps the output (max |f(a,b) - f(b,a)| {gap:.2g})"
        )
    if torch.allclose(ba, ab, atol=1e-4):
        raise AssertionError(
            "swapping the embeddings keeps the output, but the head does not declare "
            "symmetric = True"
        )
    return (
        f"order-aware: swapping the embeddings changes the output (max |f(a,b) - f(b,a)| {gap:.2g})"
    )


def loss_backward(loss) -> str:
    """A finite, non-zero gradient reaches the logits and lowers a wrongly scored pair's loss;
    logits that agree with the labels score the lower loss."""
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
    right = torch.tensor([-4.0, 4.0, 4.0, -4.0])  # confident and agreeing with the targets
    if not float(loss(right, targets, *extra)) < float(loss(-right, targets, *extra)):
        raise AssertionError("the loss of logits that agree with the labels is not the lower")
    return "gradient reaches the logits, and lowers the loss of a wrongly scored pair"


def rule_labels(rule):
    """(labels, detail): the rule labels all 100 digit pairs with 0 or 1."""
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


def rule_swap(rule, labels) -> str:
    """Swapping the digits of a pair flips or keeps its label, as the rule's on_swap says."""
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
