"""Seeded, stratified label splits, pinned to the dataset they were made from.

A split says which training images are labeled (with which label) and which are not,
following Oliver et al. 2018 (arXiv:1804.09170): fixed splits per label fraction and
seed, made once and versioned (DVC), so that every method of a comparison sees exactly
the same labels. The test set is never part of a split.

File format (JSON, one file per split, e.g. ``splits/frac0.10-seed0.json``)::

    {"dataset": "imagenette", "fraction": 0.1, "seed": 0,
     "fingerprint": "<sha256 of the sorted training file list>", "num_images": 9469,
     "labeled": [["train/n01440764/x.JPEG", 0], ...], "unlabeled": ["train/...", ...],
     "source": "how it was made"}

Labels are stored so that a split can also carry *pseudo*-labels (a second round of
training on labels derived from a learned space).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split


class SplitMismatchError(ValueError):
    """A split does not belong to the dataset it is used with."""


def fingerprint(paths: Sequence[str]) -> str:
    """sha256 of the sorted relative file list: identifies a dataset's training set."""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.encode())
        h.update(b"\n")
    return h.hexdigest()


@dataclass
class LabelSplit:
    """Labeled/unlabeled partition of a training set.

    Args:
        dataset: Dataset name.
        fraction: Fraction of training images labeled (1.0 = fully supervised).
        seed: Seed of the draw.
        fingerprint: :func:`fingerprint` of the training file list it was drawn from.
        num_images: Size of that training set.
        labeled: ``(path, label)`` pairs.
        unlabeled: Paths without labels.
        source: How the split was made (e.g. ``stratified`` or ``pseudo-labels of ...``).
    """

    dataset: str
    fraction: float
    seed: int
    fingerprint: str
    num_images: int
    labeled: list[tuple[str, int]] = field(default_factory=list)
    unlabeled: list[str] = field(default_factory=list)
    source: str = "stratified"

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        data["labeled"] = [[p, int(y)] for p, y in self.labeled]
        path.write_text(json.dumps(data, indent=0) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> LabelSplit:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"No label split file {path}")
        data = json.loads(path.read_text())
        data["labeled"] = [(p, int(y)) for p, y in data["labeled"]]
        return cls(**data)

    def check(self, paths: Sequence[str], name: str = "") -> None:
        """Refuse a split made from another dataset (file list) than ``paths``."""
        actual = fingerprint(paths)
        if actual != self.fingerprint:
            raise SplitMismatchError(
                f"Label split {name or self.dataset} was made from another dataset: its "
                f"fingerprint {self.fingerprint[:12]}... ({self.num_images} images) does not "
                f"match this training set's {actual[:12]}... ({len(paths)} images). Remake "
                "the splits for this data (dvc repro) or point to the data they were made from."
            )


def split_name(fraction: float, seed: int) -> str:
    """Canonical name of a split: ``frac0.10-seed0``."""
    return f"frac{fraction:.2f}-seed{seed}"


def make_split(
    dataset: str, paths: Sequence[str], labels: Sequence[int], fraction: float, seed: int
) -> LabelSplit:
    """Draw a stratified labeled subset of ``fraction`` of the images (scikit-learn).

    Every class keeps its share; at least one labeled image per class.
    """
    paths, labels = list(paths), [int(y) for y in labels]
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], not {fraction}")
    order = np.argsort(paths)
    paths = [paths[i] for i in order]
    labels = [labels[i] for i in order]
    if fraction >= 1:
        lab_idx, unl_idx = list(range(len(paths))), []
    else:
        n_classes = len(set(labels))
        n_labeled = max(int(round(fraction * len(paths))), n_classes)
        lab_idx, unl_idx = train_test_split(
            np.arange(len(paths)), train_size=n_labeled, stratify=labels, random_state=seed
        )
    return LabelSplit(
        dataset=dataset,
        fraction=float(fraction),
        seed=int(seed),
        fingerprint=fingerprint(paths),
        num_images=len(paths),
        labeled=[(paths[i], labels[i]) for i in sorted(lab_idx)],
        unlabeled=[paths[i] for i in sorted(unl_idx)],
    )
