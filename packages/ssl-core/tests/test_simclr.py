"""SimCLR's NT-Xent loss against a short reference (Chen et al. 2020, eq. 1)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ssl_core.backbones import Backbone
from ssl_core.methods import SimCLR


def ntxent_reference(z0: torch.Tensor, z1: torch.Tensor, temperature: float) -> torch.Tensor:
    """Mean over the 2B anchors of -log softmax of the positive among the 2B-1 others."""
    z = F.normalize(torch.cat([z0, z1]), dim=1)
    n = len(z0)
    losses = []
    for i in range(2 * n):
        j = (i + n) % (2 * n)  # the other view of the same image
        sims = torch.stack([z[i] @ z[m] / temperature for m in range(2 * n) if m != i])
        positive = z[i] @ z[j] / temperature
        losses.append(torch.logsumexp(sims, dim=0) - positive)
    return torch.stack(losses).mean()


@pytest.fixture(scope="module")
def simclr() -> SimCLR:
    return SimCLR(backbone=Backbone("resnet18"), projection_dim=8, hidden_dim=16)


@pytest.mark.parametrize("temperature", [0.07, 0.5, 1.0])
@pytest.mark.parametrize("batch_size", [2, 7, 32])
def test_ntxent_matches_reference(simclr, temperature, batch_size):
    simclr.criterion.temperature = temperature
    g = torch.Generator().manual_seed(batch_size)
    z0, z1 = torch.randn(batch_size, 8, generator=g), torch.randn(batch_size, 8, generator=g)
    expected = ntxent_reference(z0, z1, temperature)
    assert simclr.criterion(z0, z1).item() == pytest.approx(expected.item(), rel=1e-5, abs=1e-6)
    # Pairs matter: swapping the partners of two images changes the loss.
    z1_swapped = z1[torch.arange(batch_size).roll(1)]
    assert simclr.criterion(z0, z1_swapped).item() == pytest.approx(
        ntxent_reference(z0, z1_swapped, temperature).item(), rel=1e-5, abs=1e-6
    )


def test_ntxent_known_values(simclr):
    simclr.criterion.temperature = 0.5
    # One image: its other view is the only candidate, so the loss is exactly 0.
    z = torch.randn(1, 8)
    assert simclr.criterion(z, torch.randn(1, 8)).item() == pytest.approx(0.0, abs=1e-6)
    # Two images with orthogonal, identical views: each anchor has sims 1/t (positive),
    # 0 and 0 (negatives): loss = log(e^2 + 2) - 2.
    z0 = torch.eye(2, 8)
    expected = torch.log(torch.exp(torch.tensor(2.0)) + 2) - 2
    assert simclr.criterion(z0, z0.clone()).item() == pytest.approx(expected.item(), rel=1e-6)


def test_training_step_uses_both_views(simclr):
    simclr.criterion.temperature = 0.5
    x = torch.randn(4, 3, 32, 32)
    simclr.eval()  # batch norm in eval mode: the step is a pure function of the views
    same = simclr.training_step({"views": [x, x], "label": torch.zeros(4)}, 0)
    other = simclr.training_step({"views": [x, x.flip(-1)], "label": torch.zeros(4)}, 0)
    assert same.ndim == 0 and torch.isfinite(same)
    assert same < other  # identical views are easier positives than flipped ones
