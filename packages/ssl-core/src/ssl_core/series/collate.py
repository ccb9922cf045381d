"""Series as batches: padding with a length mask, collation of dataset items, and
per-channel standardisation from training statistics (on the device).

A batch view is ``{"series": (B, C, T) float32, "mask": (B, T) bool}``: ``T`` is the
batch's longest series, ``mask`` is True on real samples (a prefix of each row) and the
padding holds zeros. Backbones (:mod:`ssl_core.series.backbones`) take such a view.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np
import torch

from ssl_core.data.datasets import IndexedDataset, collate, labels_and_indices


class SeriesSourceLike(Protocol):
    """What :class:`SeriesDataset` needs of a source (:class:`~ssl_core.series.ts.TsSource`,
    :class:`~ssl_core.series.gw.GWAKSource`)."""

    ids: list[str]
    targets: np.ndarray

    def __len__(self) -> int: ...

    def read(self, i: int) -> np.ndarray: ...


class SeriesDataset(IndexedDataset):
    """Series of a source at ``indices`` (the data layer's
    :class:`~ssl_core.data.datasets.IndexedDataset`): items ``{"series": (C, T) float32,
    "label", "index", "seed"}``; a bad series (NaN, inf, zero length:
    :class:`BadSeriesError`) ends the run with one line, or with ``on_bad_file="skip"``
    is left out and named under ``bad_files``."""

    field, noun = "series", "series"
    source: SeriesSourceLike


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


def pad_view(view: dict[str, torch.Tensor], length: int) -> dict[str, torch.Tensor]:
    """A view padded with zeros (mask False) to ``length >= T`` steps."""
    extra = length - view["mask"].shape[1]
    if extra <= 0:
        return view
    return {
        "series": torch.nn.functional.pad(view["series"], (0, extra)),
        "mask": torch.nn.functional.pad(view["mask"], (0, extra)),
    }


def cat_views(views: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Views concatenated along the batch, padded to the longest (what ``torch.cat`` does
    for image views, for methods that run the backbone once on several)."""
    length = max(v["mask"].shape[1] for v in views)
    views = [pad_view(v, length) for v in views]
    return {k: torch.cat([v[k] for v in views]) for k in ("series", "mask")}


class SeriesCollate:
    """Collate series items into a batch: pad, then views from each item's seed.

    Items are ``{"series": (C, T) array, "label": int, "index": int, "seed": int}``
    (``seed``: the augmentation seed the sampler drew; the index when absent), or
    ``{"bad_files": "<id>: <problem>"}`` for a skipped sample.

    Args:
        transform: ``transform(series, mask, seeds)`` -> a view dict or a list of them
            (:mod:`ssl_core.series.augment`); ``None``: the padded series (field ``image``).
        max_length: Keep at most this many steps of each series.

    Returns (when called): ``{"views": [{"series", "mask"}, ...]}`` or ``{"image":
    {"series", "mask"}}``, with ``label`` ``(B,)``, ``index`` ``(B,)`` and, when some
    were skipped, ``bad_files``.
    """

    def __init__(self, transform=None, max_length: int | None = None) -> None:
        self.transform = transform
        self.max_length = max_length

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        return collate(items, self.batch)

    def batch(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """The batch of readable items: views (or ``image``), ``label``, ``index``."""
        view = pad_series([item["series"] for item in items], self.max_length)
        if self.transform is not None:
            seeds = torch.tensor([item.get("seed", item["index"]) for item in items])
            view = self.transform(view["series"], view["mask"], seeds)
        return {"views" if isinstance(view, list) else "image": view, **labels_and_indices(items)}


def channel_statistics(series: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation over every real step of ``series``
    (``(C, T_i)`` arrays, e.g. a source's training samples): the statistics a source
    stores for normalization on the device, as image mean/std are.

    Returns:
        ``(mean (C,), std (C,))`` float64 (a channel that never varies gets std 1).
    """
    total = total_sq = None
    count = 0
    for s in series:
        s = np.asarray(s, dtype=np.float64)
        if total is None:
            total, total_sq = np.zeros(s.shape[0]), np.zeros(s.shape[0])
        total += s.sum(axis=1)
        total_sq += (s**2).sum(axis=1)
        count += s.shape[1]
    if not count:
        raise ValueError("no series (or only empty ones) to measure")
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
    return mean, np.where(std > 0, std, 1.0)


def standardize(
    view: dict[str, torch.Tensor], mean: torch.Tensor, std: torch.Tensor
) -> dict[str, torch.Tensor]:
    """``(series - mean) / std`` per channel (``mean``, ``std``: ``(C,)``, on the view's
    device); padding stays zero and the mask is kept."""
    x = (view["series"] - mean[:, None]) / std[:, None]
    return {"series": x * view["mask"][:, None, :], "mask": view["mask"]}


def normalize_series_batch(batch: Any, mean: torch.Tensor, std: torch.Tensor) -> Any:
    """Standardise the ``image`` and ``views`` fields of a batch (also inside the
    ``labeled``/``unlabeled`` parts of a semi-supervised batch); nothing else, as
    :func:`ssl_core.data.datamodule.normalize_batch` does for images."""
    if not isinstance(batch, dict):
        return batch
    out = {}
    for key, value in batch.items():
        if key == "image":
            out[key] = standardize(value, mean, std)
        elif key == "views":
            out[key] = [standardize(v, mean, std) for v in value]
        elif isinstance(value, dict):
            out[key] = normalize_series_batch(value, mean, std)
        else:
            out[key] = value
    return out
