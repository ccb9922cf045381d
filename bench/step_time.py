"""A callback that times training steps, for benchmarks (not a test).

``--trainer.callbacks+=step_time.StepTimer`` (with ``bench/`` on ``PYTHONPATH``) writes
``<default_root_dir>/step_time.json`` at the end of ``fit``: the median wall time of one
optimizer step after ``warmup`` steps (data loading included, validation excluded) and
the device it ran on. ``bench/results_table.py --step-time`` adds it to every run and
reports it as a column, so a table says how long a budget takes per method.

Lightning's ``ThroughputMonitor`` needs a per-method batch-size function; wall time per
step is what a budget needs and is the same for every method, so we time that.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import torch
from lightning.pytorch import Callback, LightningModule, Trainer


class StepTimer(Callback):
    """Median seconds per training step (start to start), after ``warmup`` steps.

    Args:
        warmup: Steps not timed (CUDA/cuDNN autotuning, dataloader workers starting).
    """

    def __init__(self, warmup: int = 10) -> None:
        self.warmup = warmup
        self.times: list[float] = []
        self._last: float | None = None
        self.device = "cpu"

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if pl_module.device.type == "cuda":  # at fit end the module is back on the CPU
            self.device = torch.cuda.get_device_name(pl_module.device)

    def _now(self, pl_module: LightningModule) -> float:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize(pl_module.device)
        return time.perf_counter()

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, *_) -> None:
        now = self._now(pl_module)
        if self._last is not None and trainer.global_step > self.warmup:
            self.times.append(now - self._last)
        self._last = now

    def on_validation_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._last = None  # the step after a validation is not a step's time

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._last = None  # nor is the first of the next epoch (workers restart)

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        out = {
            "timed_steps": len(self.times),
            "median_s_per_step": statistics.median(self.times) if self.times else None,
            "device": self.device,
        }
        Path(trainer.default_root_dir).mkdir(parents=True, exist_ok=True)
        (Path(trainer.default_root_dir) / "step_time.json").write_text(json.dumps(out, indent=1))
