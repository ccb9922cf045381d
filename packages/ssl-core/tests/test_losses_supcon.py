"""SupConLoss against a short loop-by-loop reference and against lightly's NTXentLoss."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from lightly.loss import NTXentLoss

from ssl_core.losses import SupConLoss


def reference_supcon(features: torch.Tensor, labels: torch.Tensor, temperature: float) -> float:
    """Eq. 2 of Khosla et al. 2020, written out: features (B, V, D), labels (B,)."""
    z = F.normalize(features.double(), dim=-1)
    b, v, _ = z.shape
    items = [(i, a) for i in range(b) for a in range(v)]  # (sample, view)
    losses = []
    for i, a in items:
        others = [(j, c) for j, c in items if (j, c) != (i, a)]
        sims = {(j, c): float(z[i, a] @ z[j, c]) / temperature for j, c in others}
        log_denominator = math.log(sum(math.exp(s) for s in sims.values()))
        positives = [(j, c) for j, c in others if labels[j] == labels[i]]
        if not positives:
            continue
        losses.append(-sum(sims[p] - log_denominator for p in positives) / len(positives))
    return sum(losses) / len(losses)


@pytest.mark.parametrize("temperature", [0.07, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("batch_size", [1, 3, 8])
@pytest.mark.parametrize("views", [1, 2, 3])
@pytest.mark.parametrize("with_labels", [True, False])
def test_supcon_matches_reference(temperature, batch_size, views, with_labels):
    torch.manual_seed(batch_size * 10 + views)
    features = torch.randn(batch_size, views, 16)
    labels = torch.randint(0, 3, (batch_size,)) if with_labels else torch.arange(batch_size)
    loss = SupConLoss(temperature)(features, labels if with_labels else None)
    has_pairs = views > 1 or len(set(labels.tolist())) < batch_size
    if not has_pairs:  # no anchor has a positive: zero, not NaN
        assert loss.item() == 0.0
        return
    expected = reference_supcon(features, labels, temperature)
    assert loss.item() == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_list_of_views_equals_stack():
    torch.manual_seed(0)
    z0, z1, z2 = torch.randn(3, 6, 8).unbind(0)
    labels = torch.tensor([0, 1, 0, 2, 1, 1])
    loss_fn = SupConLoss(0.2)
    from_stack = loss_fn(torch.stack([z0, z1, z2], dim=1), labels)
    from_list = loss_fn([z0, z1, z2], labels)
    torch.testing.assert_close(from_list, from_stack)


@pytest.mark.parametrize("temperature", [0.1, 0.5, 2.0])
@pytest.mark.parametrize("batch_size", [2, 5, 16])
def test_no_labels_two_views_is_ntxent(temperature, batch_size):
    torch.manual_seed(batch_size)
    z0, z1 = torch.randn(batch_size, 32), torch.randn(batch_size, 32)
    supcon = SupConLoss(temperature)([z0, z1])
    ntxent = NTXentLoss(temperature=temperature)(z0, z1)
    torch.testing.assert_close(supcon, ntxent, rtol=1e-6, atol=1e-6)


def test_gradient_is_finite_and_flows():
    features = torch.randn(4, 2, 8, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 2])
    SupConLoss(0.1)(features, labels).backward()
    assert torch.isfinite(features.grad).all() and features.grad.abs().sum() > 0


def test_argument_errors():
    with pytest.raises(ValueError, match="temperature"):
        SupConLoss(0.0)
    with pytest.raises(ValueError, match="features must be"):
        SupConLoss()(torch.randn(2, 4))
