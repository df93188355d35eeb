"""Learning-rate schedules: one-cycle and cosine step per optimizer step, plateau per epoch."""

from __future__ import annotations

import torch


class Schedule:
    """Wraps a torch scheduler so the loop calls `after_step()` and `after_epoch(val_accuracy)`."""

    def __init__(self, name: str, optimizer: torch.optim.Optimizer, lr: float, total_steps: int):
        self.name = name
        self.optimizer = optimizer
        total_steps = max(1, total_steps)
        if name == "onecycle":
            self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.3
            )
        elif name == "cosine":
            self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
                optimizer, T_max=total_steps, eta_min=lr * 0.01
            )
        elif name == "plateau":
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode="max", factor=0.5, patience=2
            )
        elif name == "constant":
            self.scheduler = None
        else:
            raise ValueError(f"unknown schedule '{name}'")
        self._total = total_steps
        self._steps = 0

    def after_step(self) -> None:
        # One-cycle refuses to step past its end; runs that stop early never get there.
        if self.name in ("onecycle", "cosine") and self._steps < self._total - 1:
            self.scheduler.step()
        self._steps += 1

    def after_epoch(self, val_accuracy: float) -> None:
        if self.name == "plateau":
            self.scheduler.step(val_accuracy)

    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state_dict(self) -> dict:
        inner = self.scheduler.state_dict() if self.scheduler is not None else {}
        return {"steps": self._steps, "scheduler": inner}

    def load_state_dict(self, state: dict) -> None:
        self._steps = int(state["steps"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
