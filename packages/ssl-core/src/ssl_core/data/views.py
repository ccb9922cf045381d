"""Views of samples, whatever the modality: the container every modality's augmentations
plug into (:class:`Views`, seeded per sample by :func:`seed_transform` or per batch), and
what methods and datamodules do with views without knowing their kind: walk a batch's
views (:func:`map_views`), concatenate padded views (:func:`cat`, padding every axis but
the batch to the widest: views of one dataset differ only in their padded length), count
samples (:func:`size`), pool over real entries (:func:`masked_mean`).

A view is what a backbone takes (``shared/MODALITIES.md``): an image batch ``(B, C, H,
W)``, or a dict for sets and series (``{"points": (B, P, F), "mask": (B, P)}``,
``{"series": (B, C, T), "mask": (B, T)}``), ``mask`` True on real entries. A batch holds
one view in ``image`` (evaluation) or a list in ``views`` (training), also inside the
``labeled``/``unlabeled`` parts of a semi-supervised batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

View = torch.Tensor | dict[str, torch.Tensor]


class Views:
    """Views of a sample (or a batch of samples), each made by its own callable.

    Args:
        views: One callable per view.
        single: Exactly one view, returned as it is (the batch field ``image``) rather
            than in a list (``views``): evaluation.
    """

    def __init__(self, views: Sequence[Callable[..., Any]], single: bool = False) -> None:
        if single and len(views) != 1:
            raise ValueError("single=True takes exactly one view")
        self.views = list(views)
        self.single = single

    @property
    def field(self) -> str:
        """The batch field the views go to."""
        return "image" if self.single else "views"

    def output(self, views: list[Any]) -> Any:
        """``views`` as this recipe returns them: the one view, or the list."""
        return views[0] if self.single else views


def seed_transform(transform, seed: int | None) -> None:
    """Seed a transform's random draws if it has any (``set_random_seed``, as
    albumentations' ``Compose`` and this module's transforms have); others are left."""
    setter = getattr(transform, "set_random_seed", None)
    if callable(setter):
        setter(seed)


def map_views(batch: Any, fn: Callable[[View], View]) -> Any:
    """``batch`` with ``fn`` applied to each view of its ``image`` and ``views`` fields,
    also inside dict-valued parts (``labeled``/``unlabeled``); nothing else changes, so
    masks, labels and indices pass untouched."""
    if not isinstance(batch, dict):
        return batch
    out = {}
    for key, value in batch.items():
        if key == "image":
            out[key] = fn(value)
        elif key == "views":
            out[key] = type(value)(fn(v) for v in value)
        elif isinstance(value, dict):
            out[key] = map_views(value, fn)
        else:
            out[key] = value
    return out


def size(view: View) -> int:
    """The number of samples ``B`` in a view."""
    return len(view) if isinstance(view, torch.Tensor) else len(view["mask"])


def masked_mean(h: torch.Tensor, mask: torch.Tensor, dim: int) -> torch.Tensor:
    """Mean of ``h`` over the real positions of axis ``dim`` (``mask`` True on real
    entries, broadcastable to ``h``): the pooling of every padded view."""
    m = mask.to(h.dtype)
    return (h * m).sum(dim) / m.sum(dim).clamp(min=1)


def pad_to(x: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """``x`` padded with zeros (False) at the end of every axis but the first to ``shape``."""
    extra = [s - n for s, n in zip(shape[1:], x.shape[1:], strict=True)]
    if not any(extra):
        return x
    pad = [p for e in reversed(extra) for p in (0, e)]
    return F.pad(x, pad)


def cat(views: Sequence[View]) -> View:
    """Views concatenated along the batch, ``(sum B_i, ...)``: ``torch.cat`` for tensors;
    padded dict views padded to the widest first (see the module docstring)."""
    first = views[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(list(views))
    if "mask" not in first:
        raise TypeError(f"cannot concatenate views with fields {sorted(first)}: no 'mask'")
    out = {}
    for key in first:
        parts = [v[key] for v in views]
        widest = [max(p.shape[axis] for p in parts) for axis in range(parts[0].ndim)]
        out[key] = torch.cat([pad_to(p, widest) for p in parts])
    return out
