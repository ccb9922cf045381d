"""The EMA momentum of BYOL, MoCo and DINO through a real Lightning loop.

The update after optimizer step k (k = 0 first, K steps in the run) uses BYOL's
tau_k = 1 - (1 - tau_base) (cos(pi k / K) + 1) / 2 (Grill et al. 2020): the first update
uses tau_base. Lightning counts a step only after ``optimizer_step`` returns, which is
where the base module calls ``on_after_optimizer_step``."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from lightning.pytorch import Trainer
from torch import nn
from torch.utils.data import DataLoader

from ssl_core.methods import BYOL, DINO, MoCo

BASE = 0.9
SMALL = {
    BYOL: {"projection_dim": 8, "hidden_dim": 16},
    MoCo: {"projection_dim": 8, "hidden_dim": 16, "memory_bank_size": 32},
    DINO: {"hidden_dim": 16, "bottleneck_dim": 8, "output_dim": 16},
}


class TinyBackbone(nn.Module):
    """A linear map of 3 x 4 x 4 images: what the methods need of a backbone."""

    num_features = 16

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, self.num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def recording(method: type) -> type:
    """``method`` with a trivial loss on plain image batches, recording each momentum."""

    class Recording(method):
        def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
            return self.projection_head(self.backbone(batch)).pow(2).mean()

        def momentum(self, step: int) -> float:
            m = super().momentum(step)
            self.momenta.append(m)
            return m

    return Recording


def tau(k: int, total: int) -> float:
    return 1 - (1 - BASE) * (math.cos(math.pi * k / total) + 1) / 2


@pytest.mark.parametrize("accumulate", [1, 2])
@pytest.mark.parametrize("method", [BYOL, MoCo, DINO], ids=lambda m: m.__name__)
def test_update_after_step_k_uses_tau_k(method, accumulate):
    torch.manual_seed(0)
    model = recording(method)(backbone=TinyBackbone(), momentum_base=BASE, **SMALL[method])
    model.momenta = []
    batches = 8
    loader = DataLoader(torch.randn(2 * batches, 3, 4, 4), batch_size=2)
    trainer = Trainer(
        max_epochs=1,
        accelerator="cpu",
        accumulate_grad_batches=accumulate,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, train_dataloaders=loader)
    steps = batches // accumulate
    assert trainer.global_step == steps
    assert model.momenta == pytest.approx([tau(k, steps) for k in range(steps)])
    assert model.momenta[0] == pytest.approx(BASE)


def test_mean_teacher_first_update_is_half_and_half():
    """Tarvainen & Valpola's code counts the step before the EMA update: decays 1/2, 2/3,
    3/4, ... up to ema_decay (our update was one step early: 0, 1/2, ...)."""
    from ssl_core.methods import MeanTeacher

    class Recording(MeanTeacher):
        def training_step(self, batch, batch_idx):
            return self.classifier(self.backbone(batch)).pow(2).mean()

        def momentum(self, step):
            self.decays.append(super().momentum(step))
            return self.decays[-1]

    torch.manual_seed(0)
    model = Recording(num_classes=3, ema_decay=0.7, backbone=TinyBackbone())
    model.decays = []
    loader = DataLoader(torch.randn(8, 3, 4, 4), batch_size=2)
    trainer = Trainer(
        max_epochs=1,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, train_dataloaders=loader)
    assert model.decays == pytest.approx([0.5, 2 / 3, 0.7, 0.7])


@pytest.mark.parametrize("warmup_epochs", [1, 2, 3])
def test_dino_teacher_temperature_reaches_its_final_value_at_the_last_warmup_epoch(
    warmup_epochs,
):
    """DINO's code (and lightly's ``DINOLoss``): ``linspace(start, final, W)[epoch]``,
    the final temperature from epoch W - 1 on."""
    model = DINO(
        backbone=TinyBackbone(),
        warmup_teacher_temp=0.04,
        teacher_temp=0.07,
        warmup_teacher_temp_epochs=warmup_epochs,
        **SMALL[DINO],
    )
    expected = np.linspace(0.04, 0.07, warmup_epochs)
    for epoch in range(warmup_epochs + 2):
        model._trainer = SimpleNamespace(current_epoch=epoch)
        want = expected[epoch] if epoch < warmup_epochs else 0.07
        assert model.teacher_temperature() == pytest.approx(want)
