"""What every consumer of a plugin's model relies on, checked once where the model is built.

The trainer, the exporter, the parity gate and the ensemble all assume a pair model takes two
float32 (N, 1, 28, 28) tensors and returns one finite float logit per pair, shape (N,), and that
a model declaring itself antisymmetric gives f(a, b) = -f(b, a). A plugin that breaks this fails
deep inside one of them with a message about tensors; checked here on a tiny batch (a few
milliseconds), the breach is one line naming the plugin, the item, what was expected and found.
Heads and losses get the same treatment for their own contracts.
"""

from __future__ import annotations

from pairzoo.errors import PluginError

TOLERANCE = 1e-4  # f(a, b) + f(b, a) of an antisymmetric model, a symmetric head's f(a,b) - f(b,a)
_PAIRS = 2  # the tiny batch; batch 1 is checked too (a .squeeze() is wrong only there)


def check_architecture(model, label: str):
    """`model` if it keeps the pair-model contract; else PluginError prefixed with `label`."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise PluginError(
            f"{label}: the factory returned {type(model).__name__}, expected a torch.nn.Module"
        )
    antisymmetric = any(getattr(m, "antisymmetric", False) for m in model.modules())
    with _quiet_forward(model):
        xa, xb = _images(model, _PAIRS)
        ab = _pair_logits(model, label, xa, xb)
        _pair_logits(model, label, xa[:1], xb[:1])
        if antisymmetric:
            gap = float((ab + _pair_logits(model, label, xb, xa)).abs().max())
            if not gap <= TOLERANCE * (1 + float(ab.abs().max())):
                raise PluginError(
                    f"{label}: declares itself antisymmetric, but f(a, b) + f(b, a) is {gap:.3g}, "
                    f"expected 0 (within {TOLERANCE:g}): swapping the images must negate the logit"
                )
    return model


def check_fusion_head(head, feat_dim: int, label: str):
    """`head` if forward(ea, eb) maps two (N, feat_dim) embeddings to (N,) floats."""
    import torch

    if not isinstance(head, torch.nn.Module):
        raise PluginError(
            f"{label}: the factory returned {type(head).__name__}, expected a torch.nn.Module"
        )
    with _quiet_forward(head):
        g = torch.Generator().manual_seed(0)
        ea, eb = (torch.randn(_PAIRS, feat_dim, generator=g) for _ in range(2))
        ab = _call(head, label, "forward(ea, eb)", ea, eb)
        _expect_logits(ab, label, "forward(ea, eb)", _PAIRS)
        feature = getattr(head, "feature", None)
        if callable(feature):
            feat = _call(feature, label, "feature(ea, eb)", ea, eb)
            if not isinstance(feat, torch.Tensor) or feat.ndim < 1 or feat.shape[0] != _PAIRS:
                raise PluginError(
                    f"{label}: feature(ea, eb) returned {_what(feat)} for {_PAIRS} pairs, "
                    f"expected a tensor of shape ({_PAIRS}, ...)"
                )
        if getattr(head, "symmetric", False):
            gap = float((ab - _call(head, label, "forward(eb, ea)", eb, ea)).abs().max())
            if not gap <= TOLERANCE * (1 + float(ab.abs().max())):
                raise PluginError(
                    f"{label}: declares symmetric = True, but f(a, b) - f(b, a) is {gap:.3g}, "
                    f"expected 0 (within {TOLERANCE:g})"
                )
    return head


def check_loss(loss, label: str):
    """`loss` if forward(logits, targets[, teacher_logits]) returns a finite float scalar that
    depends on the logits."""
    import torch

    if not callable(loss):
        raise PluginError(f"{label}: the factory returned {type(loss).__name__}, expected a module")
    logits = torch.tensor([1.5, -0.5, 0.25, -2.0], requires_grad=True)
    targets = torch.tensor([1.0, 0.0, 1.0, 0.0])
    extra = (torch.tensor([2.0, -1.0, 0.5, -1.5]),) if getattr(loss, "needs_teacher", False) else ()
    with torch.random.fork_rng(devices=[]):
        value = _call(loss, label, "forward(logits, targets)", logits, targets, *extra)
    if not isinstance(value, torch.Tensor) or value.shape != ():
        raise PluginError(
            f"{label}: forward(logits, targets) returned {_what(value)} for 4 logits, expected a "
            "scalar tensor, shape ()"
        )
    if not value.is_floating_point() or not bool(torch.isfinite(value)):
        raise PluginError(
            f"{label}: forward(logits, targets) returned {value.dtype} {float(value)!r}, expected "
            "a finite float"
        )
    if not value.requires_grad:
        raise PluginError(
            f"{label}: forward(logits, targets) returned a loss with no gradient to the logits "
            "(detached?), so training could not learn from it"
        )
    return loss


class _quiet_forward:
    """Eval mode, no gradients and the caller's random streams left as they were."""

    def __init__(self, module):
        import torch

        self.module, self.training = module, module.training
        self.rng = torch.random.fork_rng(devices=[])
        self.grad = torch.no_grad()

    def __enter__(self):
        self.rng.__enter__()
        self.grad.__enter__()
        self.module.eval()

    def __exit__(self, *exc):
        self.module.train(self.training)
        self.grad.__exit__(*exc)
        return self.rng.__exit__(*exc)


def _images(model, n: int):
    import torch

    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    g = torch.Generator().manual_seed(0)
    xa, xb = (torch.rand(n, 1, 28, 28, generator=g).to(device) for _ in range(2))
    return xa, xb


def _pair_logits(model, label: str, xa, xb):
    n = xa.shape[0]
    out = _call(model, label, "forward(xa, xb)", xa, xb)
    _expect_logits(out, label, "forward(xa, xb)", n)
    return out.float()


def _expect_logits(out, label: str, call: str, n: int) -> None:
    import torch

    pairs = f"{n} pair{'s' if n != 1 else ''}"
    if not isinstance(out, torch.Tensor) or out.shape != (n,):
        raise PluginError(
            f"{label}: {call} returned {_what(out)} for {pairs}, expected shape ({n},): one logit "
            "per pair"
        )
    if not out.is_floating_point():
        raise PluginError(f"{label}: {call} returned dtype {out.dtype}, expected a float dtype")
    if not bool(torch.isfinite(out).all()):
        raise PluginError(
            f"{label}: {call} returned non-finite values (nan or inf) for {pairs} of random "
            "images in [0, 1], expected finite logits"
        )


def _call(fn, label: str, call: str, *args):
    try:
        return fn(*args)
    except Exception as exc:  # the plugin's own bug: one line naming it, traceback under --debug
        raise PluginError(f"{label}: {call} raised {type(exc).__name__}: {exc}") from exc


def _what(value) -> str:
    import torch

    if isinstance(value, torch.Tensor):
        return f"shape {tuple(value.shape)}"
    return type(value).__name__
