"""The run's record as it trains: train.log (rewritten atomically) and TensorBoard scalars in tb/."""

from __future__ import annotations

import re
import time
from pathlib import Path

from pairzoo.atomic import write_text

TB_SCALARS = {  # history key -> TensorBoard tag
    "train_loss": "loss/train",
    "val_loss": "loss/val",
    "train_accuracy": "accuracy/train",
    "val_accuracy": "accuracy/val",
    "lr": "learning_rate",
    "grad_norm": "grad_norm",
}


class RunLog:
    def __init__(self, run_dir: Path, resume_epoch: int = 0, echo=None):
        self.path = run_dir / "train.log"
        self.echo = echo  # optional callable for each line (the CLI's progress output)
        self.text = (
            _up_to(self.path.read_text(encoding="utf-8"), resume_epoch)
            if resume_epoch and self.path.exists()
            else ""
        )
        self._tb = None
        self._tb_dir = run_dir / "tb"
        self._purge = resume_epoch + 1 if resume_epoch else None

    def line(self, message: str) -> None:
        stamped = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}"
        self.text += stamped + "\n"
        write_text(self.path, self.text)
        if self.echo is not None:
            self.echo(message)

    def epoch(self, row: dict) -> None:
        """One history row: a log line and its TensorBoard scalars."""
        self.line(
            f"epoch {row['epoch']}: train loss {row['train_loss']:.4f} acc {row['train_accuracy']:.4f}"
            f" | val loss {row['val_loss']:.4f} acc {row['val_accuracy']:.4f}"
            f" auc {_fmt(row['val_roc_auc'])} | lr {row['lr']:.2e} grad norm {row['grad_norm']:.3f}"
            f" | {row['time_s']:.1f} s{' (best)' if row['best'] else ''}"
        )
        writer = self._writer()
        for key, tag in TB_SCALARS.items():
            writer.add_scalar(tag, row[key], row["epoch"])
        writer.flush()

    def _writer(self):
        if self._tb is None:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step drops events a killed run wrote after its last checkpoint.
            self._tb = SummaryWriter(log_dir=str(self._tb_dir), purge_step=self._purge)
        return self._tb

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None


_EPOCH_LINE = re.compile(r"^\S+ \S+ epoch (\d+):")


def _up_to(text: str, epoch: int) -> str:
    """`text` without the epoch lines after `epoch`: a killed run wrote them after its last
    checkpoint, and the resumed run trains those epochs again (as purge_step does for tb/)."""
    lines = text.splitlines(keepends=True)
    return "".join(
        line for line in lines if not ((m := _EPOCH_LINE.match(line)) and int(m[1]) > epoch)
    )


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


class NullLog:
    """The log of a data-parallel rank other than 0, which writes nothing."""

    def line(self, message: str) -> None:
        pass

    def epoch(self, row: dict) -> None:
        pass

    def close(self) -> None:
        pass
