"""Parameter groups (no decay on norm/bias) and the WarmupCosine schedule.

The scheduler's wiring through the CLI (interval, frequency, total_steps from the
trainer) is tested end to end in projects/imagenette/tests/test_cli.py."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ssl_core.backbones import Backbone
from ssl_core.methods import SimCLR
from ssl_core.optim import WarmupCosine


def _sgd(params):
    return torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-4)


@pytest.fixture(scope="module")
def simclr() -> SimCLR:
    return SimCLR(backbone=Backbone("resnet18"), projection_dim=8, hidden_dim=16, optimizer=_sgd)


def _no_decay_expected(model: nn.Module) -> set[int]:
    """ids of the parameters of normalization layers and of all biases."""
    ids = set()
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if (
                isinstance(module, nn.modules.batchnorm._NormBase | nn.LayerNorm | nn.GroupNorm)
                or name == "bias"
            ):
                ids.add(id(p))
    return ids


def test_no_weight_decay_on_norm_and_bias(simclr):
    optimizer = simclr.configure_optimizers()
    decay_of = {id(p): g["weight_decay"] for g in optimizer.param_groups for p in g["params"]}
    assert set(decay_of) == {id(p) for p in simclr.parameters()}  # every parameter, once
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(decay_of)
    no_decay = _no_decay_expected(simclr)
    assert no_decay  # BN layers and the projection head's biases exist
    for p_id, wd in decay_of.items():
        assert wd == (0.0 if p_id in no_decay else 1e-4)
    # The convolution and linear weights keep their decay.
    assert decay_of[id(simclr.backbone.net.conv1.weight)] == 1e-4
    assert decay_of[id(simclr.backbone.net.bn1.weight)] == 0.0


def test_decay_everywhere_when_asked():
    model = SimCLR(
        backbone=Backbone("resnet18"),
        projection_dim=8,
        hidden_dim=16,
        optimizer=_sgd,
        exclude_norm_bias_decay=False,
    )
    optimizer = model.configure_optimizers()
    assert {g["weight_decay"] for g in optimizer.param_groups} == {1e-4}


def _lrs(scheduler: WarmupCosine, optimizer, steps: int) -> list[float]:
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


@pytest.mark.parametrize("warmup,warmup_steps", [(0.2, 2), (3, 3), (0.0, 0)])
def test_warmup_cosine_shape(warmup, warmup_steps):
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = WarmupCosine(optimizer, total_steps=10, warmup=warmup, end_value=0.0)
    lrs = _lrs(scheduler, optimizer, 10)
    # Linear warmup, then cosine from the base LR down towards end_value.
    # (lightly's convention: the warmup skips LR 0, and the cosine ends on the last step).
    for i in range(warmup_steps):
        assert lrs[i] == pytest.approx((i + 1) / warmup_steps)
    decay = lrs[warmup_steps:]
    assert decay[0] == pytest.approx(1.0)
    assert all(a > b for a, b in zip(decay, decay[1:], strict=False))
    assert decay[-1] == pytest.approx(0.0, abs=1e-9)
    n = len(decay) - 1
    assert decay[3] == pytest.approx(0.5 * (1 + math.cos(math.pi * 3 / n)), abs=1e-6)
