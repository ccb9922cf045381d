"""Imagenette in its standard folder layout.

``root/train/<wnid>/*.JPEG``, ``root/val/<wnid>/*.JPEG`` and optionally
``root/noisy_imagenette.csv`` (fast.ai's label file with ``noisy_labels_{0,1,5,25,50}``).
Images of any size; grayscale JPEGs come out as RGB. The dataset knows nothing of
methods: it returns ``(transform(image), label, index)`` with the transform it is given.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from ssl_core.transforms import decode_image, to_tensor

WNIDS = (
    "n01440764",
    "n02102040",
    "n02979186",
    "n03000684",
    "n03028079",
    "n03394916",
    "n03417042",
    "n03425413",
    "n03445777",
    "n03888257",
)
CLASS_NAMES = (
    "tench",
    "English springer",
    "cassette player",
    "chain saw",
    "church",
    "French horn",
    "garbage truck",
    "gas pump",
    "golf ball",
    "parachute",
)
NOISE_LEVELS = (0, 1, 5, 25, 50)
EXTENSIONS = (".jpeg", ".jpg", ".png")


class Imagenette(Dataset):
    """Imagenette images with their class labels.

    Args:
        root: Folder holding ``train/`` and ``val/``.
        split: ``train`` or ``val`` (the official val: this project's test set).
        transform: Callable on the ``uint8`` RGB ``(H, W, 3)`` array (default: to a
            ``uint8`` ``(3, H, W)`` tensor).
        label_noise: Use fast.ai's noisy training labels (``noisy_labels_<N>``, percent of
            flipped labels; needs ``noisy_imagenette.csv``). 0 = the clean labels.
        exclude_classes: wnids or class names left out (e.g. to hold a class out for
            anomaly detection). Labels keep their 0-9 numbering.
        indices: Keep only these positions of the full (sorted) file list.
        samples: Use these ``(relative path, label)`` pairs instead of listing the folder
            (e.g. the labeled part of a label split, possibly with pseudo-labels).
        limit_per_class: Keep only images among the first N (sorted) of their class
            folder: a small, fixed subset for smoke runs of a whole pipeline.
    """

    classes = WNIDS

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        transform: Callable[[np.ndarray], Any] | None = None,
        label_noise: int = 0,
        exclude_classes: Sequence[str] = (),
        indices: Sequence[int] | None = None,
        samples: Sequence[tuple[str, int]] | None = None,
        limit_per_class: int | None = None,
    ) -> None:
        self.root = Path(root)
        self.split = split
        self.transform = transform or to_tensor
        if split not in ("train", "val"):
            raise ValueError(f"split must be 'train' or 'val', not {split!r}")
        if label_noise not in NOISE_LEVELS:
            raise ValueError(f"label_noise must be one of {NOISE_LEVELS}")
        folder = self.root / split
        if not folder.is_dir():
            raise FileNotFoundError(f"No {split}/ folder in {self.root.resolve()}")
        self.samples = list(samples) if samples is not None else self.list_samples(folder)
        if limit_per_class:
            listing = self.list_samples(folder) if samples is not None else self.samples
            counts: dict[int, int] = {}
            keep = set()
            for path, label in listing:
                counts[label] = counts.get(label, 0) + 1
                if counts[label] <= limit_per_class:
                    keep.add(path)
            self.samples = [s for s in self.samples if s[0] in keep]
        if label_noise:
            self.samples = self._noisy(self.samples, label_noise)
        excluded = {_wnid(c) for c in exclude_classes}
        if excluded:
            keep = {WNIDS.index(w) for w in WNIDS if w not in excluded}
            self.samples = [s for s in self.samples if s[1] in keep]
        if indices is not None:
            self.samples = [self.samples[i] for i in indices]

    @staticmethod
    def list_samples(folder: Path) -> list[tuple[str, int]]:
        """``(relative path, label)`` of every image under ``folder/<wnid>/``, sorted."""
        samples = []
        for label, wnid in enumerate(WNIDS):
            class_dir = folder / wnid
            if not class_dir.is_dir():
                continue
            names = sorted(
                e.name for e in os.scandir(class_dir) if e.name.lower().endswith(EXTENSIONS)
            )
            samples += [(f"{folder.name}/{wnid}/{n}", label) for n in names]
        if not samples:
            raise FileNotFoundError(f"No images in {folder}/<wnid>/ for the Imagenette wnids")
        return samples

    def _noisy(self, samples: list[tuple[str, int]], level: int) -> list[tuple[str, int]]:
        csv_path = self.root / "noisy_imagenette.csv"
        if not csv_path.is_file():
            raise FileNotFoundError(f"label_noise={level} needs {csv_path}")
        with csv_path.open() as f:
            noisy = {
                row["path"]: WNIDS.index(row[f"noisy_labels_{level}"]) for row in csv.DictReader(f)
            }
        return [(path, noisy.get(path, label)) for path, label in samples]

    @property
    def targets(self) -> list[int]:
        return [label for _, label in self.samples]

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, label = self.samples[index]
        image = decode_image(self.root / path, channels=3)
        return self.transform(image), label, index


def _wnid(name: str) -> str:
    if name in WNIDS:
        return name
    if name in CLASS_NAMES:
        return WNIDS[CLASS_NAMES.index(name)]
    raise ValueError(f"Unknown Imagenette class {name!r}; use a wnid or one of {CLASS_NAMES}")
