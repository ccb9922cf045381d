"""Domain shift of evaluation images: a fixed corruption standing for a shifted instrument.

A shift is given as ``KIND:AMOUNT`` (what a datamodule's ``shift`` option takes):

- ``noise:S``: additive Gaussian noise, standard deviation S in units of the full range
  (``noise:0.1`` = 25.5 grey levels on ``uint8``), independent per value.
- ``hue:H``: hue rotated by H of the full circle (``hue:0.1`` = 36 degrees; RGB only).
- ``blur:S``: Gaussian blur of sigma S pixels.

Each is the :mod:`ssl_core.augment` operation that the training augmentations use (the
same hue and blur conventions).

The shift is applied to the *final* evaluation view (after resize and crop), so its size
means the same whatever the source resolution. Noise is random per image (reseeded per
sample where a dataset gives seeds, ``set_random_seed``); the other shifts are
deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import torch

from ssl_core import augment as aug
from ssl_core.transforms import seed_transform

KINDS = ("noise", "hue", "blur")


def parse_shift(spec: str) -> tuple[str, float]:
    """``"noise:0.1"`` -> ``("noise", 0.1)``; a clear error for anything else."""
    kind, sep, amount = spec.partition(":")
    kind = kind.strip().lower()
    try:
        value = float(amount)
    except ValueError:
        value = None
    if not sep or kind not in KINDS or value is None or value < 0:
        raise ValueError(
            f"Bad shift {spec!r}: expected KIND:AMOUNT with KIND one of {KINDS} and AMOUNT >= 0, "
            "e.g. 'noise:0.1' (sigma, fraction of the range), 'hue:0.1' (fraction of the hue "
            "circle) or 'blur:2' (sigma in pixels)."
        )
    return kind, value


class ShiftTransform:
    """Apply a shift after another image transform.

    Args:
        base: The evaluation transform, mapping ``uint8`` ``(H, W, C)`` arrays to ``uint8``
            ``(C, H, W)`` tensors (e.g. :class:`ssl_core.transforms.EvalTransform`).
        spec: Shift spec (see the module docstring).
    """

    def __init__(self, base: Callable[[np.ndarray], torch.Tensor], spec: str) -> None:
        self.base = base
        self.spec = spec
        self.kind, self.amount = parse_shift(spec)
        self.rng = random.Random()

    def set_random_seed(self, seed: int | None) -> None:
        seed_transform(self.base, seed)
        self.rng.seed(seed)

    def __call__(self, image: np.ndarray) -> torch.Tensor:
        view = self.base(image)
        array = np.ascontiguousarray(view.numpy().transpose(1, 2, 0))
        if self.kind == "noise":
            return aug.to_tensor(aug.gaussian_noise(array, self.amount, self.rng))
        if self.kind == "blur":
            return aug.to_tensor(aug.gaussian_blur(array, self.amount))
        if not aug.is_rgb(array):
            raise ValueError(f"Shift {self.spec!r} needs RGB images, not {array.shape[2]} channels")
        return aug.to_tensor(aug.adjust_hue(array, self.amount))

    def __repr__(self) -> str:
        return f"ShiftTransform({self.base!r}, {self.spec!r})"
