"""The digit-posterior fusion head: read each digit, then apply the label rule.

The label is a function of the two digit classes, so this head turns each embedding into a
10-way digit posterior and sums the pair posterior over the digit pairs the rule labels 1:

    P(y = 1 | a, b) = sum_{i,j} M(i, j) p(i | a) p(j | b) w(i, j) / sum_{i,j} p(i | a) p(j | b) w(i, j)

with M the rule's 10x10 label mask and w the data's pair prior over its marginals (see
:mod:`pairzoo.data.pair_prior`; for ``greater`` at 80% adjacent pairs it weights adjacent pairs
up and rules out equal digits). It is exact wherever the digits are read right, antisymmetric by
construction for a rule whose swap flips, and exports to ONNX with M and w as constants.

Its digit classifier is the model's own (``digit_classifier``): the trainer's digit supervision
trains the posteriors this head combines.
"""

import torch
from torch import nn

from pairzoo.data.pair_prior import DIGITS, label_mask, pair_prior, pair_weights
from pairzoo.data.rules import DEFAULT_RULE
from pairzoo.hookspecs import hookimpl
from pairzoo.plugins import get_label_rule

__all__ = ["DigitPosteriorHead"]

EXCLUDED = -1e4  # log-weight of a pair the prior rules out: exp() is 0 in float32


class DigitPosteriorHead(nn.Module):
    symmetric = False
    uses_pair_prior = True  # the trainer fills rule and adjacent in from the data's meta.json

    def __init__(self, feat_dim: int, rule: str = DEFAULT_RULE, adjacent: float = 0.8) -> None:
        super().__init__()
        if not isinstance(feat_dim, int) or feat_dim < 1:
            raise ValueError(f"feat_dim must be a positive int, got {feat_dim!r}")
        label_rule = get_label_rule(rule)
        mask = torch.as_tensor(label_mask(label_rule), dtype=torch.bool)
        weights = torch.as_tensor(pair_weights(pair_prior(label_rule, adjacent)))
        if not (weights[mask] > 0).any() or not (weights[~mask] > 0).any():
            raise ValueError(f"label rule '{rule}' gives no pair of one of the two labels")
        log_w = torch.where(weights > 0, weights.clamp_min(1e-30).log(), EXCLUDED).float()
        self.register_buffer("log_w1", torch.where(mask, log_w, EXCLUDED))
        self.register_buffer("log_w0", torch.where(mask, EXCLUDED, log_w))
        self.digit_classifier = nn.Linear(feat_dim, DIGITS)
        # An antisymmetric model adds f(a, b) - f(b, a) = 2 f: half the log-odds starts it exact.
        self.scale = nn.Parameter(torch.tensor(0.5))

    def forward(self, ea, eb):
        la = torch.log_softmax(self.digit_classifier(ea).float(), dim=1)
        lb = torch.log_softmax(self.digit_classifier(eb).float(), dim=1)
        joint = (la[:, :, None] + lb[:, None, :]).flatten(1)
        return self.scale * (
            _logsumexp(joint + self.log_w1.flatten()) - _logsumexp(joint + self.log_w0.flatten())
        )


def _logsumexp(x):
    """torch.logsumexp over dim 1, spelled out: its ONNX ReduceLogSumExp (opset 17) reads as a
    reduction over every axis in OpenVINO, which then refuses the graph; max, exp, sum and log
    read alike everywhere."""
    top = x.max(dim=1, keepdim=True).values.detach()  # a shift: its gradient cancels
    return (x - top).exp().sum(dim=1).log() + top.squeeze(1)


@hookimpl
def register_fusion_heads(register):
    register(
        "posterior",
        DigitPosteriorHead,
        params={"rule": DEFAULT_RULE, "adjacent": 0.8},
        description="digit posteriors of a and b combined through the label rule and the data's "
        "pair prior (order-aware)",
    )
