"""Losses against values computed by hand with plain math."""

import math

import pytest
import torch

from pairzoo.errors import ConfigError
from pairzoo.plugins import build_loss, catalog

S = [2.0, -1.0, 0.5, 0.0]
Y = [1.0, 0.0, 0.0, 1.0]
T = [3.0, -2.0, 1.0, -0.5]
LOSSES = sorted(catalog().losses)  # every registered loss, a third-party one too


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def bce(logit, target):
    p = sigmoid(logit)
    return -(target * math.log(p) + (1 - target) * math.log(1 - p))


def smooth(y, ls):
    return y * (1 - ls) + 0.5 * ls


def run(name, params, teacher=None):
    loss = build_loss(name, params)
    t = torch.tensor(teacher) if teacher is not None else None
    return float(loss(torch.tensor(S), torch.tensor(Y), t))


def mean(values):
    return sum(values) / len(values)


@pytest.mark.parametrize("ls", [0.0, 0.1])
def test_bce(ls):
    expected = mean([bce(s, smooth(y, ls)) for s, y in zip(S, Y, strict=True)])
    assert run("bce", {"label_smoothing": ls}) == pytest.approx(expected, rel=1e-6)


def test_builtin_losses_are_registered():
    assert {"bce", "focal", "distill"} <= set(LOSSES)


def test_bce_known_number():
    # -log(sigmoid(0)) = log 2 for every pair
    loss = build_loss("bce", {})
    assert float(loss(torch.zeros(3), torch.tensor([1.0, 0.0, 1.0]))) == pytest.approx(math.log(2))


@pytest.mark.parametrize(
    ("alpha", "gamma", "ls"), [(1.0, 2.0, 0.0), (0.5, 1.5, 0.2), (2.0, 0.0, 0.0)]
)
def test_focal(alpha, gamma, ls):
    terms = []
    for s, y in zip(S, Y, strict=True):
        y = smooth(y, ls)
        p = sigmoid(s)
        p_t = p * y + (1 - p) * (1 - y)
        terms.append(alpha * (1 - p_t) ** gamma * bce(s, y))
    params = {"alpha": alpha, "gamma": gamma, "label_smoothing": ls}
    assert run("focal", params) == pytest.approx(mean(terms), rel=1e-6)


def test_focal_with_gamma_zero_is_scaled_bce():
    assert run("focal", {"alpha": 2.0, "gamma": 0.0}) == pytest.approx(2 * run("bce", {}), rel=1e-6)


@pytest.mark.parametrize(
    ("temperature", "alpha", "ls"), [(3.0, 0.7, 0.0), (1.0, 0.5, 0.1), (2.0, 0.0, 0.0)]
)
def test_distill(temperature, alpha, ls):
    soft = mean([bce(s / temperature, sigmoid(t / temperature)) for s, t in zip(S, T, strict=True)])
    hard = mean([bce(s, smooth(y, ls)) for s, y in zip(S, Y, strict=True)])
    expected = alpha * temperature**2 * soft + (1 - alpha) * hard
    params = {"temperature": temperature, "alpha": alpha, "label_smoothing": ls}
    assert run("distill", params, teacher=T) == pytest.approx(expected, rel=1e-6)


def test_distill_needs_teacher():
    with pytest.raises(ValueError, match="teacher_logits"):
        run("distill", {})


def test_distill_does_not_train_the_teacher():
    teacher = torch.tensor(T, requires_grad=True)
    student = torch.tensor(S, requires_grad=True)
    build_loss("distill", {})(student, torch.tensor(Y), teacher).backward()
    assert teacher.grad is None and student.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("name", "params", "word"),
    [
        ("bce", {"label_smoothing": 1.0}, "label_smoothing"),
        ("focal", {"gamma": -1.0}, "gamma"),
        ("focal", {"alpha": 0.0}, "alpha"),
        ("distill", {"temperature": 0.0}, "temperature"),
        ("distill", {"alpha": 1.5}, "alpha"),
        ("focal", {"gama": 2.0}, "gama"),
    ],
)
def test_bad_params_name_the_parameter(name, params, word):
    with pytest.raises(ConfigError, match=f"'{name}'.*{word}|{word}.*'{name}'"):
        build_loss(name, params)
