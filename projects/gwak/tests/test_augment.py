"""Strain views: the detector shift and swap, and the strain recipes' per-sample seeds."""

from __future__ import annotations

import pytest
import torch

from gwak.augment import (
    DetectorShift,
    DetectorSwap,
    Strain,
    StrainContrastiveTransform,
    StrainWeakStrongTransform,
)
from ssl_core.data.seeds import SampleRandom
from ssl_core.series import SeriesWeakStrongTransform, pad_series
from ssl_core.testing import check_series_views_from_seeds

SEEDS = torch.tensor([11, 22, 33, 44])


def strain(lengths=(60, 64, 50, 64), seed=0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, n, generator=g) for n in lengths]


@pytest.mark.parametrize(
    "transform",
    [StrainContrastiveTransform(), StrainWeakStrongTransform()],
    ids=["contrastive", "weak-strong"],
)
def test_views_depend_on_the_sample_seed_alone(transform):
    check_series_views_from_seeds(transform, strain(), SEEDS)


def test_detector_shift_moves_l1_against_h1_within_the_light_travel_time():
    view = pad_series(strain(lengths=(60, 64)))
    x, mask = view["series"], view["mask"]
    det, _ = DetectorShift(0.01, 1000.0)(x, mask, SampleRandom(SEEDS[:2]))  # <= 10 samples
    for b, n in enumerate((60, 64)):
        assert torch.equal(det[b, 0, :n], x[b, 0, :n])  # H1 stays
        lags = [s for s in range(-10, 11) if torch.equal(torch.roll(x[b, 1, :n], s), det[b, 1, :n])]
        assert len(lags) == 1


def test_detector_swap_twice_is_identity_and_padding_stays_padding():
    view = pad_series(strain())
    x, mask, rand = view["series"], view["mask"], SampleRandom(SEEDS)
    once, _ = DetectorSwap(0.5)(x, mask, rand)
    assert torch.equal(DetectorSwap(0.5)(once, mask, rand)[0], x)
    assert not torch.equal(once, x)  # some of the 4 windows were swapped
    assert torch.equal(DetectorSwap(1.0)(x, mask, rand)[0], x.flip(1))
    for op in (DetectorShift(0.01, 2048.0), DetectorSwap(0.5)):
        out, out_mask = op(x, mask, rand)
        assert torch.equal(out_mask, mask) and (out * ~mask[:, None, :] == 0).all()


def test_the_strain_modality_gives_strain_recipes():
    modality = Strain()
    assert isinstance(modality.recipe("contrastive", None), StrainContrastiveTransform)
    weak = modality.recipe("weak", None)
    assert isinstance(weak, SeriesWeakStrongTransform) and len(weak.views) == 1
    assert type(weak.views[0].ops[0]) is DetectorSwap
