"""Binary metrics from logits."""

import numpy as np
import pytest

from pairzoo.train.metrics import binary_metrics


def test_metrics_from_logits():
    y = np.array([1, 1, 0, 0])
    m = binary_metrics(y, np.array([2.0, -1.0, -3.0, 0.5]))
    assert m["accuracy"] == 0.5 and m["precision"] == 0.5 and m["recall"] == 0.5
    assert m["f1"] == pytest.approx(0.5) and m["roc_auc"] == 0.75


def test_one_class_has_no_roc_auc():
    m = binary_metrics(np.array([1, 1]), np.array([1.0, -1.0]))
    assert m["roc_auc"] is None and m["accuracy"] == 0.5
