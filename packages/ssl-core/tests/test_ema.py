"""The EMA helper (:mod:`ssl_core.methods.ema`) and the ramp-ups (:mod:`ssl_core.methods.rampups`)
against short references written here."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ssl_core.methods.ema import cosine_momentum, ema_warmup_decay, frozen_copy
from ssl_core.methods.rampups import linear_rampup, rampup_steps, sigmoid_rampup
from ssl_core.task import TaskModule


class _Copies(TaskModule):
    """EMA copies of ``online`` moved with momentum ``m`` after every optimizer step."""

    def __init__(self, online: list[nn.Module], m: float) -> None:
        super().__init__()
        self.online = nn.ModuleList(online)
        self.copies = nn.ModuleList(frozen_copy(module) for module in online)
        self.m = m

    def ema_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        return list(zip(self.online, self.copies, strict=True))

    def momentum(self, step: int) -> float:
        return self.m


@pytest.mark.parametrize("m", [0.0, 0.5, 0.99])
def test_the_step_hook_moves_every_copy_towards_its_online_module(m):
    torch.manual_seed(0)
    online = [nn.Linear(3, 2), nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4))]
    model = _Copies(online, m)
    copies = list(model.copies)
    assert all(not p.requires_grad for c in copies for p in c.parameters())
    with torch.no_grad():
        for module in online:
            for p in module.parameters():
                p.add_(torch.randn_like(p))
    before = [[p.clone() for p in c.parameters()] for c in copies]
    model.on_after_optimizer_step()
    for module, twin, old in zip(online, copies, before, strict=True):
        for p, p_ema, p_old in zip(module.parameters(), twin.parameters(), old, strict=True):
            assert torch.allclose(p_ema, m * p_old + (1 - m) * p, atol=1e-6)
            assert not p_ema.requires_grad


@pytest.mark.parametrize("total", [1, 7, 100])
@pytest.mark.parametrize("base", [0.9, 0.996])
def test_cosine_momentum_is_byols_schedule(total, base):
    for k in range(total):
        tau = 1 - (1 - base) * (math.cos(math.pi * k / total) + 1) / 2
        assert cosine_momentum(k, total, base) == pytest.approx(tau)
    assert cosine_momentum(0, total, base) == pytest.approx(base)
    assert cosine_momentum(5, float("inf"), base) == base  # length unknown


def test_mean_teachers_decay_warms_up_from_one_half():
    assert [ema_warmup_decay(s, 0.7) for s in (1, 2, 3, 4)] == pytest.approx([0.5, 2 / 3, 0.7, 0.7])


def test_rampups():
    assert sigmoid_rampup(0, 100) == pytest.approx(math.exp(-5))
    assert sigmoid_rampup(50, 100) == pytest.approx(math.exp(-5 * 0.25))
    assert sigmoid_rampup(100, 100) == sigmoid_rampup(500, 100) == 1.0
    assert sigmoid_rampup(3, 0) == 1.0
    assert linear_rampup(5, 10, 20) == 0.0
    assert linear_rampup(15, 10, 20) == pytest.approx(0.5)
    assert linear_rampup(25, 10, 20) == 1.0
    assert rampup_steps(0.3, 200) == 60  # a share of the run
    assert rampup_steps(50, 200) == 50  # a number of steps
