"""Time series as a modality: :class:`SeriesCollate` pads a batch to its longest series
(items ``{"series": (C, T), "label", "index", "seed"}``) and makes the views of the padded
batch, each sample from its own seed (views ``{"series": (B, C, T), "mask": (B, T)}``,
mask True on real steps, padding zero); default recipes the sensor views of
:mod:`ssl_core.series.augment` (a project with other physics gives its own: GWAK's
strain); standardisation per channel with the training set's statistics.

- [0] Yue et al., TS2Vec, AAAI 2022, arXiv:2106.10466 (the sensor views' crops)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ssl_core.data.datasets import BatchCollate
from ssl_core.data.modality import ArrayModality, mean_std
from ssl_core.series.augment import (
    SeriesContrastiveTransform,
    SeriesEvalTransform,
    SeriesTransform,
    SeriesWeakStrongTransform,
)


def pad_series(
    series: Sequence[np.ndarray | torch.Tensor], max_length: int | None = None
) -> dict[str, torch.Tensor]:
    """Pad series ``[(C, T_i)]`` to the longest into a view.

    Args:
        series: Arrays or tensors ``(C, T_i)``, one channel count for all.
        max_length: Keep at most the first ``max_length`` steps of each series.

    Returns:
        ``{"series": (B, C, T) float32, "mask": (B, T) bool}``, ``T = max T_i``.
    """
    tensors = [torch.as_tensor(s, dtype=torch.float32) for s in series]
    if max_length is not None:
        tensors = [s[:, :max_length] for s in tensors]
    lengths = torch.tensor([s.shape[-1] for s in tensors], dtype=torch.long)
    channels = {s.shape[0] for s in tensors}
    if len(channels) > 1:
        raise ValueError(f"series of one batch have different channel counts {sorted(channels)}")
    t = int(lengths.max()) if len(tensors) else 0
    out = torch.zeros(len(tensors), channels.pop() if channels else 0, t)
    for b, s in enumerate(tensors):
        out[b, :, : s.shape[-1]] = s
    mask = torch.arange(t)[None, :] < lengths[:, None]
    return {"series": out, "mask": mask}


class SeriesCollate(BatchCollate):
    """Collate series items into a batch: pad, then the views of the padded batch.

    Args:
        views: ``views(series, mask, seeds)`` -> a view dict or a list of them
            (:class:`~ssl_core.series.augment.SeriesTransform`; default: the padded
            series as they are, field ``image``).
        max_length: Keep at most this many steps of each series.

    Returns (when called): ``{"views": [{"series", "mask"}, ...]}`` or ``{"image":
    {"series", "mask"}}``, with ``label`` ``(B,)``, ``index`` ``(B,)`` and, when some
    were skipped, ``bad_files``.
    """

    def __init__(self, views: SeriesTransform | None = None, max_length: int | None = None):
        super().__init__(views if views is not None else SeriesEvalTransform(), "series")
        self.max_length = max_length

    def views_of(self, samples: list[np.ndarray], seeds: list[int]) -> Any:
        view = pad_series(samples, self.max_length)
        return self.views(view["series"], view["mask"], torch.tensor(seeds))


class Series(ArrayModality):
    """Multichannel series of any length (see the module docstring).

    Args:
        max_length: Keep at most this many steps of a series.
    """

    noun = field = "series"
    contrastive, weak_strong = SeriesContrastiveTransform, SeriesWeakStrongTransform
    evaluation = SeriesEvalTransform

    def __init__(self, max_length: int | None = None) -> None:
        self.max_length = max_length

    def collate(self, transform: SeriesTransform) -> SeriesCollate:
        return SeriesCollate(transform, self.max_length)

    def statistics(self, dm: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel mean and std over every real step of the training set's usable
        series."""
        from ssl_core.data.sources import BadDataError

        data = dm.source.load(dm.root)
        rows = [data.index(p) for p in dm.train_set.paths if p not in dm.bad]
        if not rows:
            raise BadDataError(f"No usable training series in {dm.root}")
        mean, std = mean_std((data.get(i) for i in rows), axis=1)
        return torch.as_tensor(mean, dtype=torch.float32), torch.as_tensor(std, dtype=torch.float32)

    def shift(self, transform: Any, spec: str) -> SeriesTransform:
        """The evaluation view with a domain shift standing in for another instrument
        where no second data set exists: ``noise:S`` adds Gaussian noise of S times each
        channel's standard deviation over the series (:class:`~ssl_core.series.augment.
        Jitter`), ``scale:S`` multiplies each channel by ``exp(S N(0, 1))``
        (:class:`~ssl_core.series.augment.Scale`); drawn from each sample's seed."""
        from ssl_core.series.augment import Jitter, Scale, SeriesView
        from ssl_core.transforms import parse_shift

        kind, amount = parse_shift(spec, {"noise": "S x the channel's std", "scale": "log-sigma"})
        op = Jitter(amount) if kind == "noise" else Scale(amount)
        return SeriesTransform([SeriesView([op])], single=True)

    def normalize(self, view: Any, mean: torch.Tensor, std: torch.Tensor) -> Any:
        """``(series - mean) / std`` per channel of a view ``{"series": (B, C, T), "mask":
        (B, T)}``; padding stays zero and the mask is kept."""
        x, mask = view["series"], view["mask"]
        mean, std = mean.to(x.device), std.to(x.device)
        return {"series": (x - mean[:, None]) / std[:, None] * mask[:, None, :], "mask": mask}
