"""Time series as a modality: :class:`SeriesCollate` makes the views of items ``{"series":
(C, T), "label", "index", "seed"}`` (docs/series.md, "The datamodule and the projects").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from ssl_core.data.datasets import BatchCollate
from ssl_core.data.modality import ArrayModality, mean_std
from ssl_core.data.sources import BadDataError
from ssl_core.series.augment import (
    Jitter,
    Scale,
    SeriesContrastiveTransform,
    SeriesEvalTransform,
    SeriesTransform,
    SeriesView,
    SeriesWeakStrongTransform,
)


def pad_series(
    series: Sequence[np.ndarray | torch.Tensor], max_length: int | None = None
) -> dict[str, torch.Tensor]:
    """Series ``[(C, T_i)]`` (arrays or tensors, one channel count; at most ``max_length``
    steps of each) padded to the longest: ``{"series": (B, C, T) float32, "mask": (B, T)
    bool}``."""
    tensors = [torch.as_tensor(s, dtype=torch.float32)[:, :max_length] for s in series]
    channels = {s.shape[0] for s in tensors}
    if len(channels) > 1:
        raise ValueError(f"series of one batch have different channel counts {sorted(channels)}")
    out = pad_sequence([s.T for s in tensors], batch_first=True).transpose(1, 2).contiguous()
    lengths = torch.tensor([s.shape[-1] for s in tensors])
    return {"series": out, "mask": torch.arange(out.shape[2])[None, :] < lengths[:, None]}


class SeriesCollate(BatchCollate):
    """Collate series items into a batch: pad (to at most ``max_length`` steps), then the
    ``views`` of the padded batch (default: the series as they are, field ``image``)."""

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
        """Per-channel mean and std over every step of the usable training series."""
        data = dm.source.load(dm.root)
        rows = [data.index(p) for p in dm.train_set.paths if p not in dm.bad]
        if not rows:
            raise BadDataError(f"No usable training series in {dm.root}")
        mean, std = mean_std((data.get(i) for i in rows), axis=1)
        return torch.as_tensor(mean, dtype=torch.float32), torch.as_tensor(std, dtype=torch.float32)

    def shift(self, transform: Any, spec: str) -> SeriesTransform:
        """The evaluation view with a domain shift: ``noise:S`` adds Gaussian noise of S
        times each channel's std (:class:`~ssl_core.series.augment.Jitter`), ``scale:S``
        multiplies each channel by ``exp(S N(0, 1))`` (``Scale``)."""
        from ssl_core.transforms import parse_shift

        kind, amount = parse_shift(spec, {"noise": "S x the channel's std", "scale": "log-sigma"})
        op = Jitter(amount) if kind == "noise" else Scale(amount)
        return SeriesTransform([SeriesView([op])], single=True)

    def normalize(self, view: Any, mean: torch.Tensor, std: torch.Tensor) -> Any:
        """``(series - mean) / std`` per channel of a view; padding stays zero."""
        x, mask = view["series"], view["mask"]
        mean, std = mean.to(x.device), std.to(x.device)
        return {"series": (x - mean[:, None]) / std[:, None] * mask[:, None, :], "mask": mask}
