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
from torch.utils.data import Dataset

from ssl_core.points.augment import CollinearSplit, JetEvalTransform, JetTransform
from ssl_core.points.jets import BadJetError, JetSource

BAD_FILES = "bad_files"  # the batch field of skipped samples, as for images


class JetDataset(Dataset):
    """Jets of a :class:`~ssl_core.points.jets.JetSource` at ``indices``.

    Args:
        source: The jets.
        indices: Positions in ``source`` (default: all).
        labels: A label per index (default: the source's targets; ``-1``: unlabeled).
        on_bad_file: ``"error"``: a bad jet ends the run with one line naming it;
            ``"skip"``: it is left out of its batch and named under ``bad_files``.
    """

    def __init__(
        self,
        source: JetSource,
        indices: Sequence[int] | None = None,
        labels: Sequence[int] | None = None,
        on_bad_file: str = "error",
    ) -> None:
        if on_bad_file not in ("error", "skip"):
            raise ValueError(f"on_bad_file must be 'error' or 'skip', not {on_bad_file!r}")
        self.source = source
        self.indices = list(range(len(source))) if indices is None else list(indices)
        targets = source.targets
        self.labels = [int(targets[i]) for i in self.indices] if labels is None else list(labels)
        self.on_bad_file = on_bad_file

    @property
    def paths(self) -> list[str]:
        """Sample ids (``file:row``), the name embeddings and split files use."""
        return [self.source.samples[i].id for i in self.indices]

    @property
    def targets(self) -> list[int]:
        return self.labels

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, item: int | tuple[int, int]) -> dict[str, Any]:
        index, seed = item if isinstance(item, tuple) else (item, index_seed(item))
        try:
            constituents = self.source.read(self.indices[index])
        except BadJetError as err:
            if self.on_bad_file == "skip":
                return {BAD_FILES: str(err)}
            raise BadJetError(
                f"{err}. Leave such jets out with --data.on_bad_file skip (they are counted)."
            ) from None
        return {
            "constituents": constituents,
            "label": self.labels[index],
            "index": index,
            "seed": seed,
        }


def index_seed(index: int) -> int:
    """The seed of a sample read without one (evaluation, plain loops): its index."""
    return int(index)


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
        good = [item for item in items if BAD_FILES not in item]
        bad = [item[BAD_FILES] for item in items if BAD_FILES in item]
        batch: dict[str, Any] = {}
        if good:
            cap = self.max_particles
            jets = [item["constituents"][:cap] for item in good]
            seeds = np.array([item["seed"] for item in good], dtype=np.int64)
            out = self.transform(jets, seeds, cap if self.pad_to_max else None)
            batch["views" if isinstance(out, list) else "image"] = out
            batch["label"] = torch.tensor([item["label"] for item in good], dtype=torch.long)
            batch["index"] = torch.tensor([item["index"] for item in good], dtype=torch.long)
        if bad:
            batch[BAD_FILES] = bad
        return batch
