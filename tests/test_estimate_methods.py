"""The estimate methods on sets whose accuracy is a known function of their label-free scores:
the plane over agreement and confidence finds what the agreement line cannot, and is not
trusted outside the confidences it was fitted on."""

import numpy as np
import pytest
from scipy.special import logit
from scipy.stats import norm

from pairzoo.estimate.calibration import calibrate
from pairzoo.estimate.methods import SetScores, available, fit, predict

N = 20_000


def _set(agreement: float, confidence: float, accuracy: float | None = None) -> SetScores:
    """A set of N pairs of one margin (so its mean confidence is `confidence`)."""
    margin = np.full(N, logit(confidence))
    correct = None if accuracy is None else np.arange(N) < round(accuracy * N)
    return SetScores(margin, agreement, correct)


def _two_kinds(agreement: float, confidence: float) -> float:
    """Accuracy that rises with agreement and, at one agreement, falls with confidence."""
    return float(norm.cdf(1.4 * norm.ppf(agreement) - 0.6 * norm.ppf(confidence) + 0.2))


POINTS = [(0.97, 0.96), (0.91, 0.87), (0.81, 0.74), (0.74, 0.68), (0.92, 0.80), (0.76, 0.64)]


@pytest.fixture(scope="module")
def calibration():
    return {f"set-{i}": _set(a, c, _two_kinds(a, c)) for i, (a, c) in enumerate(POINTS)}


def test_the_plane_recovers_accuracy_that_depends_on_confidence_too(calibration):
    params = fit("agreement_confidence", list(calibration.values()))
    line = fit("agreement", list(calibration.values()))
    for a, c in [(0.85, 0.72), (0.85, 0.80), (0.95, 0.90)]:
        truth = _two_kinds(a, c)
        assert abs(predict("agreement_confidence", params, _set(a, c)) - truth) < 0.003
    # one agreement, two confidences: the line gives both one figure, the plane tells them apart
    low, high = _set(0.85, 0.72), _set(0.85, 0.80)
    assert predict("agreement", line, low) == predict("agreement", line, high)
    gap = np.subtract(*(predict("agreement_confidence", params, s) for s in (low, high)))
    assert gap == pytest.approx(_two_kinds(0.85, 0.72) - _two_kinds(0.85, 0.80), abs=0.003)


def test_calibration_ranks_the_plane_first_where_it_holds(calibration):
    fitted = calibrate(calibration)
    assert fitted.method == "agreement_confidence"
    assert fitted.max_error < 0.005
    assert fitted.estimate(_set(0.85, 0.75))["method"] == "agreement_confidence"


def test_outside_the_fitted_confidences_the_next_method_is_used(calibration):
    fitted = calibrate(calibration)
    # agreement within the calibration's, confidence far above every calibration set's
    row = fitted.estimate(_set(0.95, 0.999))
    assert row["method"] != "agreement_confidence"
    # the card's form keeps both ranges, so the same choice is made from it
    again = type(fitted).from_dict(fitted.to_dict())
    assert again.estimate(_set(0.95, 0.999)) == row


def test_the_plane_needs_four_sets_and_other_members():
    sets = [_set(a, c, 0.8) for a, c in POINTS[:3]]
    assert not available("agreement_confidence", sets)
    assert available("agreement", sets)
    lone = [SetScores(s.margin, None, s.correct) for s in sets + sets]
    assert not available("agreement_confidence", lone)
