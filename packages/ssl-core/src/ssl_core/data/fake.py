"""Small fake datasets in a real layout (class-dependent colours, mixed sizes, some grey
files), for tests, examples and smoke runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from ssl_core.data.images import write_image


def class_image(label: int, channels: int, height: int, width: int, rng: np.random.Generator):
    """A ``uint8`` ``(H, W, C)`` image whose mean colour depends on ``label``."""
    colour = np.array([(label * 25 + 60 * c) % 256 for c in range(channels)], np.float32)
    rgb = [(label * 25) % 256, (label * 70) % 256, (255 - label * 25) % 256]
    colour[: min(channels, 3)] = rgb[:channels]
    return np.clip(colour + rng.normal(0, 40, (height, width, channels)), 0, 255).astype(np.uint8)


def make_fake_image_folder(
    root: str | Path,
    classes: Sequence[str],
    splits: dict[str, int] | None = None,
    size: int = 48,
    channels: int = 3,
    extension: str = ".png",
    seed: int = 0,
    unlabeled: int = 0,
) -> Path:
    """Write ``root/<split>/<class>/<class>_<i>.<ext>`` images (``splits``: images per
    class of each split, default ``{"train": 6, "test": 3}``; sides ``size`` plus a few
    pixels) and ``unlabeled`` images under ``root/unlabeled/``; return ``root``."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    for split, n in (splits or {"train": 6, "test": 3}).items():
        for label, name in enumerate(classes):
            for i in range(n):
                h, w = size + (i % 3) * 8, size + (i % 2) * 12  # mixed sizes
                image = class_image(label, channels, h, w, rng)
                if channels == 3 and i == 1:  # some grey files
                    image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, :, None]
                write_image(root / split / name / f"{name}_{i:04d}{extension}", image)
    for i in range(unlabeled):
        image = class_image(i % len(classes), channels, size, size, rng)
        write_image(root / "unlabeled" / f"img_{i:04d}{extension}", image)
    return root
