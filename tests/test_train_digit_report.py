"""The digit report: per-digit accuracy and confusion of what a model reads on val."""

import torch

from pairzoo.train.device import Runtime
from pairzoo.train.digit_report import digit_report


class Reads(torch.nn.Module):
    """Reads every left digit as 3 and every right digit right (from a pixel that encodes it)."""

    def forward(self, xa, xb):
        return torch.zeros(xa.shape[0])

    def forward_aux(self, xa, xb):
        right = (xb[:, 0, 0, 0] * 255).round().long()
        left = torch.full_like(right, 3)
        return self(xa, xb), torch.nn.functional.one_hot(torch.stack([left, right], 1), 10).float()


def test_counts_both_images_of_every_pair():
    digits = torch.tensor([[3, 1], [5, 2], [3, 3], [9, 8]])
    x = torch.zeros(4, 28, 56, dtype=torch.uint8)
    x[:, 0, 28] = digits[:, 1].to(torch.uint8)  # the right image's first pixel
    report = digit_report(
        Reads(), x, digits, Runtime(torch.device("cpu"), None, False), batch_size=3
    )
    assert report["accuracy"] == 6 / 8  # lefts 5 and 9 misread as 3
    assert report["per_digit"][3] == 1.0 and report["per_digit"][5] == 0.0
    assert report["confusion"][9][3] == 1 and sum(map(sum, report["confusion"])) == 8


def test_a_model_that_reads_no_digits_has_no_report():
    class PairOnly(torch.nn.Module):
        def forward(self, xa, xb):
            return torch.zeros(xa.shape[0])

    x = torch.zeros(2, 28, 56, dtype=torch.uint8)
    assert (
        digit_report(PairOnly(), x, torch.zeros(2, 2), Runtime(torch.device("cpu"), None, False), 8)
        is None
    )
