"""Training learns: on data easy by construction, every discovered architecture (with bce) and
the trainer with every builtin loss reach 90% val accuracy within three epochs, where chance is
50%; the same run with the learning rate at (practically) zero stays below it.

The data are `template_images` pairs under the `greater` rule: each digit is a fixed random
pattern, so an untrained network is near chance (the frozen runs here: 48.5-73% val, measured)
and only learning the ten patterns gets past 90% (the trained runs: 96.5-100%). Parametrised
over what the plugin manager discovered, as the model tests are, so a new architecture gets a
learning test.
"""

import json

import numpy as np
import pytest
from train_fixtures import make_data, template_images

from pairzoo.data.format import load_data_dir
from pairzoo.plugins import build_loss, catalog
from pairzoo.train import train_run

THRESHOLD = 0.9
LR = 1e-2
FROZEN_LR = 1e-9  # the config refuses 0; this moves no weight measurably in 48 steps
SMALL = {"width_mult": 0.125, "feat_dim": 16, "layers": [1, 1]}
ARCHS = sorted(catalog().architectures)
LOSSES = sorted(catalog().losses)
CASES = [(arch, "bce") for arch in ARCHS] + [("baseline", loss) for loss in LOSSES if loss != "bce"]


@pytest.fixture(scope="module")
def easy_data(tmp_path_factory):
    path = tmp_path_factory.mktemp("learning") / "data"
    return make_data(path, n_train=256, n_val=200, n_test=32, images=template_images)


def config(data, arch, loss, lr, **loss_params):
    params = catalog().architectures[arch].params
    return {
        "arch": arch,
        "arch_params": {k: v for k, v in SMALL.items() if k in params},
        "loss": loss,
        "loss_params": loss_params,
        "data": str(data),
        "seed": 0,
        "train": {
            "epochs": 3,
            "batch_size": 16,
            "lr": lr,
            "augment": False,
            "patience": 0,
            "threads": 1,
            "device": "cpu",
        },
    }


def teacher_for(data, loss, sign=1.0):
    """Logits of a teacher that knows the train labels (`sign` -1: one that inverts them)."""
    if not getattr(build_loss(loss, {}), "needs_teacher", False):
        return None
    y = load_data_dir(data, "train").y
    return (sign * 4.0 * (2.0 * y - 1.0)).astype(np.float32)


def best_val_accuracy(cfg, out, teacher=None):
    return train_run(cfg, out, progress=False, teacher_logits=teacher)["val"]["accuracy"]


@pytest.mark.parametrize(("arch", "loss"), CASES)
def test_training_beats_the_threshold_and_a_frozen_run_does_not(arch, loss, easy_data, tmp_path):
    teacher = teacher_for(easy_data, loss)
    learned = best_val_accuracy(config(easy_data, arch, loss, LR), tmp_path / "lr", teacher)
    frozen = best_val_accuracy(config(easy_data, arch, loss, FROZEN_LR), tmp_path / "lr0", teacher)
    assert learned >= THRESHOLD, f"{arch}/{loss} reached {learned:.3f} val accuracy"
    assert frozen < THRESHOLD, f"{arch}/{loss} reached {frozen:.3f} without learning"


def test_the_student_learns_what_its_teacher_says(easy_data, tmp_path):
    # All weight on the teacher's term and a teacher that inverts every label: a student that
    # follows the teacher's logits learns the inverted rule; one that ignored them could not.
    cfg = config(easy_data, "baseline", "distill", LR, alpha=1.0)
    teacher = teacher_for(easy_data, "distill", sign=-1.0)
    train_run(cfg, tmp_path / "run", progress=False, teacher_logits=teacher)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history[-1]["val_accuracy"] <= 1 - THRESHOLD
