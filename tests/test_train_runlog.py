"""train.log after a resume: epochs a killed run logged after its last checkpoint are not kept twice."""

from pairzoo.train.runlog import RunLog

ROW = dict(
    train_loss=0.5, train_accuracy=0.7, val_loss=0.6, val_accuracy=0.65, val_roc_auc=None,
    lr=1e-3, grad_norm=1.0, time_s=0.1, best=False,
)  # fmt: skip


def _lines(path):
    return [line.split(" ", 2)[2] for line in path.read_text().splitlines()]


def test_resume_drops_epoch_lines_after_the_checkpoint_and_keeps_the_rest(tmp_path):
    log = RunLog(tmp_path)
    log.line("run 'x' started")
    for epoch in (1, 2, 3):  # killed after logging epoch 3, before its checkpoint
        log.epoch({**ROW, "epoch": epoch})
    log.close()
    resumed = RunLog(tmp_path, resume_epoch=2)
    resumed.line("run 'x' resumed after epoch 2")
    resumed.epoch({**ROW, "epoch": 3})
    resumed.close()
    lines = _lines(tmp_path / "train.log")
    assert [line.split(":")[0] for line in lines if line.startswith("epoch")] == [
        "epoch 1",
        "epoch 2",
        "epoch 3",
    ]
    assert lines[0] == "run 'x' started" and "resumed after epoch 2" in lines[3]
