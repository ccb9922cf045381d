"""Augmentations of time series (the TS2Vec / TS-TCC set), vectorised over a padded batch.

Every op is a small callable ``op(series, mask, rand) -> (series, mask)`` on a batch
``series`` ``(B, C, T)`` float with its length mask ``(B, T)`` (True on real steps, a
prefix of each row; zeros in the padding) and the batch's
:class:`~ssl_core.data.seeds.SampleRandom`: every sample draws from its own seed, so a
sample's view does not depend on the batch it is in, its position there or the batch's
padding. Ops keep padding as padding (zeros, mask False) and only :class:`RandomCrop`
shortens a mask.

A view (:class:`SeriesView`) is a list of ops, each drawing from its own stream (derived
from the view's number and the op's position). A recipe (:class:`SeriesTransform`, a
:class:`~ssl_core.data.views.Views`) makes several views (``(series, mask, seeds) ->
[{"series", "mask"}, ...]``): :class:`SeriesContrastiveTransform` two for contrastive
methods, :class:`SeriesWeakStrongTransform` weak and strong ones for FixMatch & co.,
:class:`SeriesEvalTransform` the series as they are. A dataset with other physics
subclasses them with its own ops (GWAK's strain in ``projects/gwak``). They run on torch
tensors on any device: in the collation (:class:`~ssl_core.series.modality.SeriesCollate`)
or after standardisation on the device. Jitter and the time mask's fill are relative to the sample's own per-channel
statistics, so they mean the same in raw and in standardised units.

What each op keeps (checked in ``tests/test_series_augment.py``): :class:`TimeShift` and
:class:`ChannelShift` move values in time (circularly within the series' length) without
changing them; :class:`SignFlip` twice is the identity; :class:`Scale` keeps the shape up
to a factor;
:class:`RandomCrop` keeps a contiguous piece; :class:`Jitter` and :class:`TimeMask` keep
the length.

- [0] Yue et al., TS2Vec: towards universal representation of time series, AAAI 2022,
  https://arxiv.org/abs/2106.10466 (random crops; timestamp masking, there on the latent)
- [1] Eldele et al., Time-series representation learning via temporal and contextual
  contrasting (TS-TCC), IJCAI 2021, https://arxiv.org/abs/2106.14112 (weak: jitter and
  scaling; strong: permutation and jitter)
- [2] Sohn et al., FixMatch, NeurIPS 2020, https://arxiv.org/abs/2001.07685
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ssl_core.data.seeds import SampleRandom
from ssl_core.data.views import Views

Batch = tuple[torch.Tensor, torch.Tensor]


def lengths_of(mask: torch.Tensor) -> torch.Tensor:
    """Real steps per sample ``(B,)`` int64 of a prefix mask ``(B, T)``."""
    return mask.sum(dim=1)


def roll_within(series: torch.Tensor, mask: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Roll each row circularly within its real length: ``out[t] = x[(t - s) mod L]``.

    Args:
        series: ``(B, C, T)``.
        mask: ``(B, T)`` prefix mask.
        shift: Integer shifts ``(B, 1)`` (all channels) or ``(B, C)`` (per channel).

    Returns:
        ``(B, C, T)``; the padding is left where it is.
    """
    b, c, t = series.shape
    length = lengths_of(mask).clamp(min=1)[:, None, None]
    steps = torch.arange(t, device=series.device)
    source = torch.remainder(steps - shift[:, :, None], length)  # floor modulo: >= 0
    source = torch.where(mask[:, None, :], source, steps)
    return series.gather(2, source.expand(b, c, t))


def channel_mean_std(series: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample, per-channel mean and std over real steps, ``(B, C, 1)`` each.

    Summed in float64, so a sample's statistics do not depend (to float32 precision) on
    how much padding the batch gives it: the order of a float32 reduction over the
    padded length would change the last bit."""
    x = series.to(torch.float64)
    m = mask[:, None, :].to(torch.float64)
    n = m.sum(dim=2, keepdim=True).clamp(min=1)
    mean = (x * m).sum(dim=2, keepdim=True) / n
    var = (((x - mean) * m) ** 2).sum(dim=2, keepdim=True) / n
    return mean.to(series.dtype), var.sqrt().to(series.dtype)


class RandomCrop:
    """Keep a random contiguous piece of ``fraction`` of each series' length,
    ``fraction ~ U(min_fraction, 1)``, moved to the start (TS2Vec's random cropping; its
    two crops' overlap serves its timestamp-level loss, not used here). Shortens the mask."""

    def __init__(self, min_fraction: float = 0.5) -> None:
        self.min_fraction = min_fraction

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, rand: SampleRandom) -> Batch:
        b, c, t = series.shape
        length = lengths_of(mask)
        u = rand.uniform(0, 2)
        fraction = self.min_fraction + (1 - self.min_fraction) * u[:, 0]
        new = (fraction * length).floor().long().clamp(min=1).minimum(length)
        start = (u[:, 1] * (length - new + 1)).floor().long().minimum(length - new)
        steps = torch.arange(t, device=series.device)
        keep = steps[None, :] < new[:, None]
        source = (start[:, None] + steps[None, :]).clamp(max=t - 1)
        out = series.gather(2, source[:, None, :].expand(b, c, t)) * keep[:, None, :]
        return out, keep & mask


class TimeShift:
    """Roll each series circularly within its length by ``s`` steps, ``s`` uniform in
    ``[-max_fraction L, max_fraction L]``: values move, none change."""

    def __init__(self, max_fraction: float = 0.5) -> None:
        self.max_fraction = max_fraction

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, rand: SampleRandom) -> Batch:
        length = lengths_of(mask).to(torch.float32)
        s = ((2 * rand.uniform(0, 1)[:, 0] - 1) * self.max_fraction * length).round().long()
        return roll_within(series, mask, s[:, None]), mask


class ChannelShift:
    """Roll every channel by its own shift within ``[-max_fraction L, max_fraction L]``
    (channel-wise time shifts)."""

    def __init__(self, max_fraction: float = 0.1) -> None:
        self.max_fraction = max_fraction

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, rand: SampleRandom) -> Batch:
        length = lengths_of(mask).to(torch.float32)[:, None]
        u = rand.uniform(0, series.shape[1])
        s = ((2 * u - 1) * self.max_fraction * length).round().long()
        return roll_within(series, mask, s), mask


class SignFlip:
    """Multiply a sample by -1 with probability ``p`` (strain: a polarisation angle
    turned by 90 degrees; use only where the physics is symmetric)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, rand: SampleRandom) -> Batch:
        flip = rand.uniform(0, 1)[:, :, None] < self.p
        return torch.where(flip, -series, series), mask


class Scale:
    """Multiply by ``exp(sigma N(0, 1))``, per channel or one factor per sample.

    TS-TCC scales by ``N(2, 1.1)`` per channel, which can be near zero or negative; a
    log-normal factor keeps the sign (sign flips are :class:`SignFlip`'s job).
    """

    def __init__(self, sigma: float = 0.2, per_channel: bool = True) -> None:
        self.sigma = sigma
        self.per_channel = per_channel

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, rand: SampleRandom) -> Batch:
        n = series.shape[1] if self.per_channel else 1
        factor = torch.exp(self.sigma * rand.normal(0, n))[:, :, None]
        return series * factor.to(series.dtype), mask


class Jitter:
    """Add Gaussian noise of ``sigma`` times each channel's standard deviation over the
    sample's real steps (TS-TCC's jitter, made scale-free); padding stays zero."""

    def __init__(self, sigma: float = 0.1) -> None:
        self.sigma = sigma

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, rand: SampleRandom) -> Batch:
        _, std = channel_mean_std(series, mask)
        noise = rand.normal_series(0, series.shape[1], series.shape[2]).to(series.dtype)
        return series + self.sigma * std * noise * mask[:, None, :], mask


class TimeMask:
    """Replace a random span of ``u max_fraction L`` steps (``u ~ U(0, 1)``) with each
    channel's mean over the sample (time masking; TS2Vec masks timestamps of the latent,
    here the input). The mask is unchanged: masked steps are still steps of the series."""

    def __init__(self, max_fraction: float = 0.2) -> None:
        self.max_fraction = max_fraction

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, rand: SampleRandom) -> Batch:
        length = lengths_of(mask)
        u = rand.uniform(0, 2)
        span = (u[:, 0] * self.max_fraction * length).floor().long()
        start = (u[:, 1] * (length - span + 1)).floor().long().minimum(length - span)
        steps = torch.arange(series.shape[2], device=series.device)[None, :]
        hole = (steps >= start[:, None]) & (steps < (start + span)[:, None])
        mean, _ = channel_mean_std(series, mask)
        return torch.where(hole[:, None, :], mean.expand_as(series), series), mask


class SeriesView:
    """One augmented view: ``ops`` in order, op ``j`` drawing from stream ``j``.

    Args:
        ops: The augmentations (see this module).
    """

    def __init__(self, ops: Sequence) -> None:
        self.ops = list(ops)

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, rand: SampleRandom) -> dict:
        for j, op in enumerate(self.ops):
            series, mask = op(series, mask, rand.derive(j))
        return {"series": series * mask[:, None, :], "mask": mask}


class SeriesTransform(Views):
    """Several views of a padded batch (or one: ``single``), each sample's from its own
    seed: view ``i`` draws from ``derive(seeds, i)``.

    Args:
        views: One :class:`SeriesView` per view.
        single: One view, field ``image``.

    Call: ``transform(series (B, C, T), mask (B, T), seeds (B,))`` -> ``[{"series":
    (B, C, T'), "mask": (B, T')}, ...]``, one dict per view (``T' <= T``: trailing steps
    that are padding in every row are dropped).
    """

    views: list[SeriesView]

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, seeds=None) -> list[dict] | dict:
        seeds = torch.zeros(len(series), dtype=torch.int64) if seeds is None else seeds
        rand = SampleRandom(torch.as_tensor(seeds, device=series.device))
        return self.output(
            [trim(view(series, mask, rand.derive(i))) for i, view in enumerate(self.views)]
        )


def trim(view: dict) -> dict:
    """Drop trailing steps that are padding in every row."""
    t = int(view["mask"].any(dim=0).nonzero().max()) + 1 if view["mask"].any() else 0
    return {"series": view["series"][:, :, :t], "mask": view["mask"][:, :t]}


class SeriesContrastiveTransform(SeriesTransform):
    """``views`` contrastive views (SimCLR, SupCon, BYOL, ...) of sensor series: TS2Vec's
    crop to 50-100% with TS-TCC's per-channel scaling (sigma 0.2) and jitter (0.1 std), and
    a time mask of up to 20%. A subclass gives other ops (:meth:`ops`)."""

    def __init__(self, views: int = 2) -> None:
        super().__init__([SeriesView(self.ops()) for _ in range(views)])

    def ops(self) -> list:
        return [RandomCrop(0.5), Scale(0.2), Jitter(0.1), TimeMask(0.2)]


class SeriesWeakStrongTransform(SeriesTransform):
    """``weak_views`` weak views, then ``strong_views`` strong views (FixMatch: 1 and 1;
    Mean Teacher: 2 and 0; supervised and Pseudo-Label: 1 and 0).

    Weak: TS-TCC's weak augmentation (scaling, jitter). Strong: the contrastive view's ops
    plus channel-wise shifts, stronger; TS-TCC's segment permutation is left out (it breaks
    the time order the physics is in). A subclass gives other ops (:meth:`weak_ops`,
    :meth:`strong_ops`)."""

    def __init__(self, weak_views: int = 1, strong_views: int = 1) -> None:
        super().__init__(
            [SeriesView(self.weak_ops()) for _ in range(weak_views)]
            + [SeriesView(self.strong_ops()) for _ in range(strong_views)]
        )

    def weak_ops(self) -> list:
        return [Scale(0.1), Jitter(0.05)]

    def strong_ops(self) -> list:
        return [RandomCrop(0.5), Scale(0.3), ChannelShift(0.1), Jitter(0.2), TimeMask(0.3)]


class SeriesEvalTransform(SeriesTransform):
    """No augmentation: the padded batch as one view (evaluation, prediction)."""

    def __init__(self) -> None:
        super().__init__([SeriesView([])], single=True)
