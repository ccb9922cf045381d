"""What methods do with a view without knowing its modality.

A view is what a backbone takes (see ``shared/MODALITIES.md``): an image batch
``(B, C, H, W)``, or a small dict for sets and series (``{"points": (B, P, F), "mask":
(B, P)}``, ``{"series": (B, C, T), "mask": (B, T)}``) padded to the batch's longest
sample. Methods that run the backbone once on several views concatenate them
(:func:`cat`) and count samples (:func:`size`); for images that is ``torch.cat`` and
``len``, for padded views the modality's own concatenation (pad to the longest, then
stack), dispatched on the view's field name.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

View = torch.Tensor | dict[str, torch.Tensor]


def cat(views: Sequence[View]) -> View:
    """Views concatenated along the batch: ``(sum B_i, ...)``, padded where needed."""
    first = views[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(list(views))
    if "points" in first:
        from ssl_core.points import cat_views

        return cat_views(views)
    if "series" in first:
        from ssl_core.series import cat_views

        return cat_views(views)
    raise TypeError(f"cannot concatenate views with fields {sorted(first)}")


def size(view: View) -> int:
    """The number of samples ``B`` in a view."""
    return len(view) if isinstance(view, torch.Tensor) else len(view["mask"])
