"""Sets of particles (jets) as a modality: :class:`JetCollate` makes the views of items
``{"constituents": (n, 4), "label", "index", "seed"}`` (docs/jets.md, "The pieces").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ssl_core.data.datasets import BatchCollate
from ssl_core.data.modality import ArrayModality
from ssl_core.points.augment import (
    CollinearSplit,
    JetCLRTransform,
    JetEvalTransform,
    JetTransform,
    JetWeakStrongTransform,
)
from ssl_core.points.features import jet_feature_statistics


class JetCollate(BatchCollate):
    """Collate jet items into a batch: pad, augment, features; arguments as
    :class:`Points`' (``views``, default: the jets as they are, field ``image``).
    Collinear splittings without a cap of their own are capped at ``max_particles``."""

    def __init__(
        self,
        views: JetTransform | None = None,
        max_particles: int | None = None,
        pad_to_max: bool = False,
        vectors: bool = False,
    ) -> None:
        if pad_to_max and max_particles is None:
            raise ValueError("pad_to_max needs max_particles")
        super().__init__(views if views is not None else JetEvalTransform(), "constituents")
        self.max_particles, self.pad_to_max, self.vectors = max_particles, pad_to_max, vectors
        if max_particles is not None:
            for view in self.views.views:
                for op in view.ops:
                    if isinstance(op, CollinearSplit) and op.max_particles is None:
                        op.max_particles = max_particles

    def views_of(self, samples: list[np.ndarray], seeds: list[int]) -> Any:
        width = self.max_particles if self.pad_to_max else None
        jets = [jet[: self.max_particles] for jet in samples]
        return self.views(jets, np.array(seeds, dtype=np.int64), width, self.vectors)


class Points(ArrayModality):
    """Particle jets (see the module docstring).

    Args:
        max_particles: Keep at most this many particles per jet (the hardest).
        pad_to_max: Pad every batch to ``max_particles`` (fixed shapes) instead of its
            longest jet.
        vectors: Views carry the particles' four-momenta too, ``"vectors": (B, P, 4)``
            (not normalized; :class:`~ssl_core.points.ParticleTransformer` needs them).
    """

    noun, field = "jets", "constituents"
    contrastive, weak_strong, evaluation = JetCLRTransform, JetWeakStrongTransform, JetEvalTransform

    def __init__(
        self, max_particles: int | None = 128, pad_to_max: bool = False, vectors: bool = False
    ) -> None:
        self.max_particles, self.pad_to_max, self.vectors = max_particles, pad_to_max, vectors
        self._statistics: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    def collate(self, transform: JetTransform) -> JetCollate:
        return JetCollate(transform, self.max_particles, self.pad_to_max, self.vectors)

    def statistics(self, dm: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and std ``(7,)`` of the features of the usable training jets (validation
        included) but those of the classes training leaves out, once per root."""
        excluded = frozenset(dm._excluded())
        key = (dm.root.resolve(), excluded)
        if key not in self._statistics:
            data = dm.source.load(dm.root)
            train = dm.source.list_samples(dm.root, "train")
            rows = [data.index(i) for i, t in train if t is None or t not in excluded]
            mean, std = jet_feature_statistics([data.get(i) for i in rows if data.usable(i)])
            self._statistics[key] = torch.from_numpy(mean), torch.from_numpy(std)
        return self._statistics[key]

    def normalize(self, view: Any, mean: torch.Tensor, std: torch.Tensor) -> Any:
        """``(points - mean) / std`` per feature of a view; padding stays 0, ``vectors``
        are left as they are."""
        x, mask = view["points"], view["mask"]
        m, s = mean.to(x.device, x.dtype), std.to(x.device, x.dtype)
        return {**view, "points": (x - m) / s * mask.unsqueeze(-1)}
