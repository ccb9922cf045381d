"""Augmentations of time series (the TS2Vec / TS-TCC set), vectorised over a padded batch:
ops ``op(series (B, C, T), mask (B, T), rand) -> (series, mask)`` (docs/series.md,
"Augmentations").

- [0] Yue et al., TS2Vec: towards universal representation of time series, AAAI 2022,
  https://arxiv.org/abs/2106.10466 (random crops; timestamp masking, there on the latent)
- [1] Eldele et al., Time-series representation learning via temporal and contextual
  contrasting (TS-TCC), IJCAI 2021, https://arxiv.org/abs/2106.14112 (weak: jitter and
  scaling; strong: permutation and jitter)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ssl_core.data.seeds import SampleRandom
from ssl_core.data.views import Views

Batch = tuple[torch.Tensor, torch.Tensor]


def roll_within(series: torch.Tensor, mask: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Roll each row of ``series`` ``(B, C, T)`` circularly within its real length,
    ``out[t] = x[(t - s) mod L]``, by integer shifts ``(B, 1)`` or ``(B, C)``; the padding
    stays where it is."""
    b, c, t = series.shape
    length = mask.sum(dim=1).clamp(min=1)[:, None, None]
    steps = torch.arange(t, device=series.device)
    source = torch.remainder(steps - shift[:, :, None], length)  # floor modulo: >= 0
    source = torch.where(mask[:, None, :], source, steps)
    return series.gather(2, source.expand(b, c, t))


def channel_mean_std(series: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample, per-channel mean and std over real steps, ``(B, C, 1)`` each (summed in
    float64: a float32 sum's last bit would depend on the batch's padding)."""
    x = series.to(torch.float64)
    m = mask[:, None, :].to(torch.float64)
    n = m.sum(dim=2, keepdim=True).clamp(min=1)
    mean = (x * m).sum(dim=2, keepdim=True) / n
    var = (((x - mean) * m) ** 2).sum(dim=2, keepdim=True) / n
    return mean.to(series.dtype), var.sqrt().to(series.dtype)


class RandomCrop:
    """Keep a random contiguous piece of ``fraction ~ U(min_fraction, 1)`` of each series'
    length, moved to the start (TS2Vec's random cropping). Shortens the mask."""

    def __init__(self, min_fraction: float = 0.5) -> None:
        self.min_fraction = min_fraction

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, rand: SampleRandom) -> Batch:
        b, c, t = series.shape
        length = mask.sum(dim=1)
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
    """Roll each series (with ``per_channel``, every channel by its own shift) circularly
    within its length by ``s`` steps, ``s`` uniform in ``[-max_fraction L, max_fraction
    L]``: values move, none change."""

    def __init__(self, max_fraction: float = 0.5, per_channel: bool = False) -> None:
        self.max_fraction = max_fraction
        self.per_channel = per_channel

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, rand: SampleRandom) -> Batch:
        length = mask.sum(dim=1).to(torch.float32)[:, None]
        u = rand.uniform(0, series.shape[1] if self.per_channel else 1)
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
    """Multiply by ``exp(sigma N(0, 1))``, per channel or one factor per sample (TS-TCC's
    ``N(2, 1.1)`` can be near zero or negative; a log-normal factor keeps the sign)."""

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
    channel's mean over the sample (TS2Vec masks the latent, here the input); the mask is
    unchanged."""

    def __init__(self, max_fraction: float = 0.2) -> None:
        self.max_fraction = max_fraction

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, rand: SampleRandom) -> Batch:
        length = mask.sum(dim=1)
        u = rand.uniform(0, 2)
        span = (u[:, 0] * self.max_fraction * length).floor().long()
        start = (u[:, 1] * (length - span + 1)).floor().long().minimum(length - span)
        steps = torch.arange(series.shape[2], device=series.device)[None, :]
        hole = (steps >= start[:, None]) & (steps < (start + span)[:, None])
        mean, _ = channel_mean_std(series, mask)
        return torch.where(hole[:, None, :], mean.expand_as(series), series), mask


class SeriesView:
    """One augmented view: ``ops`` in order, op ``j`` drawing from stream ``j``."""

    def __init__(self, ops: Sequence) -> None:
        self.ops = list(ops)

    def __call__(self, series: torch.Tensor, mask: torch.Tensor, rand: SampleRandom) -> dict:
        for j, op in enumerate(self.ops):
            series, mask = op(series, mask, rand.derive(j))
        return {"series": series * mask[:, None, :], "mask": mask}


class SeriesTransform(Views):
    """Several views of a padded batch (or one: ``single``), view ``i`` drawing from
    ``derive(seeds, i)``: ``transform(series (B, C, T), mask (B, T), seeds (B,))`` ->
    ``[{"series": (B, C, T'), "mask": (B, T')}, ...]``, trailing all-padding steps dropped.
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
    """``views`` contrastive views of sensor series: TS2Vec's crop to 50-100%, TS-TCC's
    scaling and jitter, a time mask of up to 20%. A subclass gives other :meth:`ops`.

    Args:
        views: How many.
        min_crop: Shortest crop, a fraction of the series (1: no crop).
        scale: Std of the per-channel scale factor around 1 (0: none).
        jitter: Std of the added noise, relative to each channel's own std (0: none).
        time_mask: Longest masked stretch, a fraction of the series (0: none).
    """

    def __init__(
        self,
        views: int = 2,
        min_crop: float = 0.5,
        scale: float = 0.2,
        jitter: float = 0.1,
        time_mask: float = 0.2,
    ) -> None:
        self.strengths = (min_crop, scale, jitter, time_mask)
        super().__init__([SeriesView(self.ops()) for _ in range(views)])

    def ops(self) -> list:
        """The ops whose strength is not "none" (a dropped op shifts the later ops' streams)."""
        min_crop, scale, jitter, time_mask = self.strengths
        ops = [RandomCrop(min_crop) if min_crop < 1 else None]
        ops += [Scale(scale) if scale else None, Jitter(jitter) if jitter else None]
        return [op for op in [*ops, TimeMask(time_mask) if time_mask else None] if op]


class SeriesWeakStrongTransform(SeriesTransform):
    """``weak_views`` weak views (TS-TCC's scaling and jitter), then ``strong_views``
    strong ones (the contrastive ops, stronger, and channel-wise shifts; no segment
    permutation: it breaks the time order). A subclass gives other ops."""

    def __init__(self, weak_views: int = 1, strong_views: int = 1) -> None:
        super().__init__(
            [SeriesView(self.weak_ops()) for _ in range(weak_views)]
            + [SeriesView(self.strong_ops()) for _ in range(strong_views)]
        )

    def weak_ops(self) -> list:
        return [Scale(0.1), Jitter(0.05)]

    def strong_ops(self) -> list:
        shift = TimeShift(0.1, per_channel=True)
        return [RandomCrop(0.5), Scale(0.3), shift, Jitter(0.2), TimeMask(0.3)]


class SeriesEvalTransform(SeriesTransform):
    """No augmentation: the padded batch as one view (evaluation, prediction)."""

    def __init__(self) -> None:
        super().__init__([SeriesView([])], single=True)
