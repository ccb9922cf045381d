"""Jets as dataset items, and their collation into padded, augmented batches.

An item is ``{"constituents": (n, 4) float32, "label": int, "index": int, "seed": int}``
(``seed``: the augmentation seed :class:`ssl_core.data.datasets.SeededSampler` drew for
the sample); a jet that cannot be used is ``{"bad_files": "<id>: <problem>"}`` with
``on_bad_file="skip"``. Augmentation happens in the collation, where the batch's jets
are packed into one array and augmented at once (:mod:`ssl_core.points.augment`), each
from its own seed, then padded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ssl_core.data.datasets import IndexedDataset, collate, labels_and_indices
from ssl_core.points.augment import CollinearSplit, JetEvalTransform, JetTransform
from ssl_core.points.jets import JetSource


class JetDataset(IndexedDataset):
    """Jets of a :class:`~ssl_core.points.jets.JetSource` at ``indices`` (the data
    layer's :class:`~ssl_core.data.datasets.IndexedDataset`): items ``{"constituents":
    (n, 4), "label", "index", "seed"}``; a bad jet (:class:`BadJetError`) ends the run
    with one line, or with ``on_bad_file="skip"`` is left out and named under
    ``bad_files``."""

    field, noun = "constituents", "jets"
    source: JetSource


def pad_jets(
    jets: Sequence[np.ndarray], max_particles: int | None = None, width: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pad jets ``[(n_i, 4)]`` into ``(B, P, 4)`` with a mask ``(B, P)``.

    ``P`` is the longest jet's length, or ``width`` when given; jets longer than
    ``max_particles`` keep their first ``max_particles`` particles (the hardest, in
    pT-sorted data).
    """
    counts = np.array([len(j) for j in jets])
    if max_particles is not None:
        counts = np.minimum(counts, max_particles)
    p = int(width if width is not None else max(counts.max(initial=0), 1))
    p4 = np.zeros((len(jets), p, 4), np.float32)
    for b, (jet, n) in enumerate(zip(jets, counts, strict=True)):
        p4[b, :n] = jet[:n]
    mask = np.arange(p)[None, :] < counts[:, None]
    return p4, mask


def pad_points(view: dict[str, torch.Tensor], width: int) -> dict[str, torch.Tensor]:
    """A view ``{"points": (B, P, F), "mask": (B, P)}`` padded with zeros to ``P = width``
    (``width >= P``)."""
    extra = width - view["mask"].shape[1]
    if extra <= 0:
        return view
    return {
        "points": torch.nn.functional.pad(view["points"], (0, 0, 0, extra)),
        "mask": torch.nn.functional.pad(view["mask"], (0, extra)),
    }


def cat_views(views: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Concatenate views along the batch, padding to the widest (what ``torch.cat``
    does for image views, for methods that run the backbone once on several)."""
    width = max(v["mask"].shape[1] for v in views)
    views = [pad_points(v, width) for v in views]
    return {k: torch.cat([v[k] for v in views]) for k in ("points", "mask")}


class JetCollate:
    """Collate jet items into a batch: pad, augment, features.

    Args:
        transform: Views of the padded batch (default: the jets as they are, field
            ``image``). A list of views becomes the field ``views``.
        max_particles: Keep at most this many particles per jet (the hardest); collinear
            splittings without a cap of their own are capped here too.
        pad_to_max: Pad every view to exactly ``max_particles`` (fixed shapes) instead of
            the batch's longest jet.

    Returns (when called on items): ``{"views": [{"points": (B, P, F), "mask": (B, P)},
    ...]}`` or ``{"image": {...}}``, with ``label`` ``(B,)``, ``index`` ``(B,)`` and, when
    some were skipped, ``bad_files``.
    """

    def __init__(
        self,
        transform: JetTransform | None = None,
        max_particles: int | None = None,
        pad_to_max: bool = False,
    ) -> None:
        if pad_to_max and max_particles is None:
            raise ValueError("pad_to_max needs max_particles")
        self.transform = transform if transform is not None else JetEvalTransform()
        self.max_particles = max_particles
        self.pad_to_max = pad_to_max
        if max_particles is not None:
            for view in self.transform.views:
                for op in view.ops:
                    if isinstance(op, CollinearSplit) and op.max_particles is None:
                        op.max_particles = max_particles

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        return collate(items, self.batch)

    def batch(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """The batch of readable items: views (or ``image``), ``label``, ``index``."""
        cap = self.max_particles
        jets = [item["constituents"][:cap] for item in items]
        seeds = np.array([item["seed"] for item in items], dtype=np.int64)
        out = self.transform(jets, seeds, cap if self.pad_to_max else None)
        return {"views" if isinstance(out, list) else "image": out, **labels_and_indices(items)}
