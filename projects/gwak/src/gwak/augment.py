"""Views of two-detector strain: the symmetries and noise of GWAK's data, on ssl-core's
series ops (:mod:`ssl_core.series.augment`), and the :class:`Strain` modality whose
default recipes they are.

Contrastive views (:func:`strain_ops`): a time shift of up to half the window (the
transient may be anywhere), detector shift (L1 against H1, <= 10 ms) and swap, sign flip
(a polarisation angle turned by 90 degrees), one scale for both detectors (sigma 0.1: a
distance change), jitter (0.1 std).

- [0] Raikman et al., GWAK, Mach. Learn.: Sci. Technol. 5 (2024),
  https://arxiv.org/abs/2309.11537 (two detectors, offsets <= 10 ms)
"""

from __future__ import annotations

from typing import Any

import torch

from gwak.strain import GWConfig
from ssl_core.data.seeds import SampleRandom
from ssl_core.series.augment import (
    Jitter,
    Scale,
    SeriesContrastiveTransform,
    SeriesWeakStrongTransform,
    SignFlip,
    TimeMask,
    TimeShift,
    roll_within,
)
from ssl_core.series.modality import Series


class DetectorShift:
    """Move channels ``1..C-1`` (L1) against channel 0 (H1) by one shift uniform in
    ``[-max_seconds, max_seconds]`` (GWAK: signals reach the detectors <= 10 ms apart),
    rounded to whole samples at ``sample_rate`` (Hz), circular within the window."""

    def __init__(
        self, max_seconds: float = 0.01, sample_rate: float = GWConfig.sample_rate
    ) -> None:
        self.max_steps = max_seconds * sample_rate

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, rand: SampleRandom) -> Any:
        s = ((2 * rand.uniform(0, 1) - 1) * self.max_steps).round().long()  # (B, 1)
        shift = torch.cat([torch.zeros_like(s), s.expand(-1, series.shape[1] - 1)], dim=1)
        return roll_within(series, mask, shift), mask


class DetectorSwap:
    """Reverse the channel order (H1 <-> L1) of a sample with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, rand: SampleRandom) -> Any:
        swap = rand.uniform(0, 1)[:, :, None] < self.p  # (B, 1, 1)
        return torch.where(swap, series.flip(1), series), mask


def strain_ops() -> list:
    """One contrastive view's ops (see the module docstring)."""
    return [
        TimeShift(0.5),
        DetectorShift(0.01),
        DetectorSwap(0.5),
        SignFlip(0.5),
        Scale(0.1, per_channel=False),
        Jitter(0.1),
    ]


class StrainContrastiveTransform(SeriesContrastiveTransform):
    """``views`` contrastive views of strain (:func:`strain_ops`).

    Args:
        views: How many.
    """

    def __init__(self, views: int = 2) -> None:
        super().__init__(views)

    def ops(self) -> list:
        return strain_ops()


class StrainWeakStrongTransform(SeriesWeakStrongTransform):
    """``weak_views`` weak views (detector swap, sign flip, a small scale and jitter),
    then ``strong_views`` strong ones (:func:`strain_ops` with a stronger jitter and a time
    mask): FixMatch 1 and 1, Mean Teacher 2 and 0, supervised and Pseudo-Label 1 and 0."""

    def weak_ops(self) -> list:
        return [DetectorSwap(0.5), SignFlip(0.5), Scale(0.05, per_channel=False), Jitter(0.05)]

    def strong_ops(self) -> list:
        return [*strain_ops()[:-1], Jitter(0.3), TimeMask(0.1)]


class Strain(Series):
    """Whitened two-detector strain: series whose default recipes are the strain views
    above.

    Args:
        max_length: Keep at most this many steps of a window.
    """

    noun = "windows"
    contrastive, weak_strong = StrainContrastiveTransform, StrainWeakStrongTransform
