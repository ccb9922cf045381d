"""Views of samples, whatever the modality: the recipe container (:class:`Views`) and
what methods do with views without knowing their kind (:func:`map_views`, :func:`cat`,
:func:`size`, :func:`masked_mean`); what a view is: docs/methods.md, "Batches".
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
    """Seed a transform with ``set_random_seed`` where it has one."""
    setter = getattr(transform, "set_random_seed", None)
    if callable(setter):
        setter(seed)


def map_views(batch: Any, fn: Callable[[View], View]) -> Any:
    """``batch`` with ``fn`` applied to each view of its ``image`` and ``views`` fields,
    also inside dict-valued parts (``labeled``/``unlabeled``)."""
    if not isinstance(batch, dict):
        return batch
    out = {}
    for key, value in batch.items():
        if key == "image":
            out[key] = fn(value)
        elif key == "views":
            out[key] = type(value)(fn(v) for v in value)
        else:  # a dict-valued part, or a field left as it is
            out[key] = map_views(value, fn)
    return out


def size(view: View) -> int:
    """The number of samples ``B`` in a view."""
    return len(view) if isinstance(view, torch.Tensor) else len(view["mask"])


def masked_mean(h: torch.Tensor, mask: torch.Tensor, dim: int) -> torch.Tensor:
    """Mean of ``h`` over axis ``dim`` where ``mask`` (broadcastable to ``h``) is True."""
    m = mask.to(h.dtype)
    return (h * m).sum(dim) / m.sum(dim).clamp(min=1)


def pad_to(x: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """``x`` padded with zeros (False) at the end of every axis but the first to ``shape``."""
    extra = [s - n for s, n in zip(shape[1:], x.shape[1:], strict=True)]
    return F.pad(x, [p for e in reversed(extra) for p in (0, e)]) if any(extra) else x


def cat(views: Sequence[View]) -> View:
    """Views concatenated along the batch, ``(sum B_i, ...)``; dict views padded to the
    widest first."""
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
