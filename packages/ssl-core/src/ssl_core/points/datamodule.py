"""Jets through the data layer: a source with optional targets, and the datamodule.

:class:`JetFiles` is a :class:`~ssl_core.data.sources.Source` over a folder of jet files
(``top.npz``, ``qcd.npz``: see :mod:`ssl_core.points.jets`). A sample is ``(id, class)``
with ids ``top.npz:17`` (what split files name); a jet without a label (``-1``, or a file
without ``label``) is an unlabeled training sample. The test set is fixed and seeded
(:func:`~ssl_core.points.jets.jet_test_split`: 20% of every class, seed 0), so splits,
manifests and the pipeline see ``train`` and ``test`` as they do for image folders.

:class:`JetDataModule` is :class:`~ssl_core.data.ClassificationDataModule` (splits,
labeled and unlabeled pools, ``train_on`` all/labeled/semi, kNN bank, predict loaders)
with jets in place of images:

- each set is a :class:`~ssl_core.points.collate.JetDataset` that collates its own
  batches (:class:`~ssl_core.points.collate.JetCollate`: pad, augment the whole batch,
  each jet from the seed :class:`~ssl_core.data.datasets.SeededSampler` drew for it);
- training views ``{"points": (B, P, 7), "mask": (B, P)}``: two JetCLR views
  (:class:`~ssl_core.points.augment.JetCLRTransform`) by default, weak/strong ones
  (:class:`~ssl_core.points.augment.JetWeakStrongTransform`) for FixMatch, Mean
  Teacher, Pseudo-Label; evaluation field ``image``: the jets as they are;
- normalization per feature on the device (:func:`~ssl_core.points.normalize_points`)
  with the mean and std of the training jets' features, measured at ``setup``;
- a bad jet (NaN / inf / no constituents) is one line naming it; ``on_bad_file skip``
  leaves it out and counts it (``train/skipped_files``);
- ``exclude_classes: [top]``: a space trained on QCD jets, top jets the test's anomaly.

- [0] Kasieczka et al., The Machine Learning Landscape of Top Taggers, SciPost Phys. 7,
  014 (2019), https://arxiv.org/abs/1902.09914
- [1] Dillon et al., Symmetries, safety, and self-supervision (JetCLR), SciPost Phys. 12,
  188 (2022), https://arxiv.org/abs/2108.04253
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ssl_core.data import ClassificationDataModule
from ssl_core.data.sources import Sample, Source
from ssl_core.points.augment import JetCLRTransform, JetEvalTransform, JetTransform
from ssl_core.points.collate import JetCollate, JetDataset
from ssl_core.points.features import FEATURES, NUM_FEATURES, normalize_points
from ssl_core.points.jets import JET_FILES, JetSource, jet_test_split


class JetFiles(Source):
    """Jets of ``.npz`` files in the shared top-tagging layout, as a data-layer source.

    Args:
        files: File names under the root, in order (their rows are the samples).
        class_names: Names of classes 0, 1, ... (``qcd``, ``top``).
        signal_class: The positive class of ROC AUC and background rejection (1 = top).
        test_fraction: Share of every class in the fixed test set.
        test_seed: Seed of the test set.
    """

    name = "jets"
    class_names = ("qcd", "top")
    channels = NUM_FEATURES  # features per particle: what the backbone's in_features takes
    mean = (0.0,) * NUM_FEATURES  # replaced by the training jets' statistics at setup
    std = (1.0,) * NUM_FEATURES
    extensions = (".npz",)
    layout = "top.npz and qcd.npz (constituents (N, 200, 4), n_constituents, label)"

    def __init__(
        self,
        files: Sequence[str] = JET_FILES,
        class_names: Sequence[str] | None = None,
        signal_class: int = 1,
        test_fraction: float = 0.2,
        test_seed: int = 0,
    ) -> None:
        super().__init__(class_names=class_names)
        self.files = tuple(files)
        self.signal_class = signal_class
        self.test_fraction, self.test_seed = test_fraction, test_seed
        self._cache: dict[Path, tuple[JetSource, dict[str, list[Sample]]]] = {}
        self._statistics: dict[tuple[Path, frozenset], tuple[np.ndarray, np.ndarray]] = {}

    def jets(self, root: Path) -> JetSource:
        """The jets under ``root`` (read once per root)."""
        return self._load(root)[0]

    def _load(self, root: Path) -> tuple[JetSource, dict[str, list[Sample]]]:
        key = Path(root).resolve()
        if key not in self._cache:
            jets = JetSource(key, self.files, self.signal_class, self.class_names)
            train, test = jet_test_split(jets, self.test_fraction, self.test_seed)
            target = {s.id: (None if s.target < 0 else s.target) for s in jets.samples}
            samples = {
                "train": [(i, target[i]) for i in train],
                "test": [(i, target[i]) for i in test if target[i] is not None],
            }
            self._cache[key] = (jets, samples)
        return self._cache[key]

    def list_samples(self, root: Path, split: str) -> list[Sample]:
        """``(id, class or None)`` of ``split``'s jets; ``[]`` when ``root`` holds none."""
        self.split_dir(split)  # checks the name
        if not all((Path(root) / f).is_file() for f in self.files):
            return []
        return self._load(root)[1][split]

    def list_unlabeled(self, root: Path) -> list[str]:
        """Unlabeled jets are listed by :meth:`list_samples` (target ``None``)."""
        return []

    def strata(self, root: Path, samples: Sequence[Sample]) -> list[int]:
        """Splits are stratified by class."""
        return [int(t) for _, t in samples]

    def class_list(self, root: Path) -> tuple[str, ...]:
        return tuple(self.class_names)

    def read(self, root: Path, path: str) -> np.ndarray:
        """Constituents ``(n, 4)`` (px, py, pz, E) of the jet with id ``path``."""
        jets = self.jets(root)
        return jets.read(jets.index(path))

    def statistics(
        self, root: Path, excluded: Collection[int] = ()
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std ``(7,)`` of the features of the usable training jets (validation
        included: input statistics, no labels) but those of the ``excluded`` classes
        (what training leaves out, e.g. the anomaly space's top jets: their statistics
        would tell the space about them), measured once per root and exclusion."""
        key = (Path(root).resolve(), frozenset(excluded))
        if key not in self._statistics:
            jets = self.jets(root)
            train = self.list_samples(root, "train")
            indices = [jets.index(i) for i, t in train if t is None or t not in key[1]]
            self._statistics[key] = jets.feature_statistics(indices)
        return self._statistics[key]


class JetSet(JetDataset):
    """A :class:`JetDataset` that knows how its batches are collated (``collate_fn``,
    which :func:`ssl_core.data.datamodule.make_loader` uses): its views are made per
    batch, not per item."""

    def __init__(
        self, jets: JetSource, samples: Sequence[Sample], collate: JetCollate, on_bad_file: str
    ) -> None:
        indices = [jets.index(p) for p, _ in samples]
        labels = [-1 if t is None else int(t) for _, t in samples]
        super().__init__(jets, indices, labels, on_bad_file)
        self.collate_fn = collate


class JetDataModule(ClassificationDataModule):
    """Jets for ssl-core methods (see the module docstring; :class:`DataModule
    <ssl_core.data.DataModule>` for the shared arguments).

    Args:
        source: The jet files (default: :class:`JetFiles`, ``top.npz`` and ``qcd.npz``).
        root: Folder of the files.
        train_on: ``all`` (self-supervised), ``labeled`` or ``semi``.
        train_transform: Views of a training jet (default: two JetCLR views).
        labeled_transform: Views of a labeled jet (default: ``train_transform``).
        unlabeled_transform: Views of an unlabeled jet (default: ``train_transform``).
        max_particles: Keep at most this many particles per jet (the hardest).
        pad_to_max: Pad every batch to ``max_particles`` (fixed shapes) instead of its
            longest jet.
        unlabeled_ratio: Unlabeled jets per labeled jet in a ``semi`` step.
        batch_size: Training batch size; in ``semi`` the labeled batch.
        eval_batch_size: Batch size of evaluation and prediction.
        num_workers: Dataloader worker processes.
        split: Label split (``frac0.10-seed0``, ``n100-seed0``, ``all``, or a path).
        val_fraction: Share of the labeled training jets in the validation split.
        val_seed: Seed of the validation split.
        exclude_classes: Classes (names) left out of training, kept in the test set:
            ``[top]`` trains a space of QCD jets, where ``evaluate`` scores top jets as
            the anomaly (``anomaly_auroc``).
        limit_per_class: Only the first N jets of each class (smoke runs).
        on_bad_file: ``error`` (a bad jet ends the run, named) or ``skip`` (counted).
    """

    target_name = "class"

    def __init__(
        self,
        source: JetFiles | None = None,
        root: str | None = None,
        train_on: Literal["all", "labeled", "semi"] = "all",
        train_transform: JetTransform | None = None,
        labeled_transform: JetTransform | None = None,
        unlabeled_transform: JetTransform | None = None,
        max_particles: int | None = 128,
        pad_to_max: bool = False,
        unlabeled_ratio: int = 1,
        batch_size: int = 256,
        eval_batch_size: int = 512,
        num_workers: int = 2,
        split: str | None = None,
        val_fraction: float = 0.1,
        val_seed: int = 0,
        exclude_classes: list[str] | None = None,
        limit_per_class: int | None = None,
        on_bad_file: Literal["error", "skip"] = "error",
    ) -> None:
        train_transform = train_transform or JetCLRTransform()
        super().__init__(
            source=source if source is not None else JetFiles(),
            root=root,
            train_on=train_on,
            train_transform=train_transform,
            labeled_transform=labeled_transform,
            unlabeled_transform=unlabeled_transform,
            unlabeled_ratio=unlabeled_ratio,
            batch_size=batch_size,
            eval_batch_size=eval_batch_size,
            num_workers=num_workers,
            split=split,
            val_fraction=val_fraction,
            val_seed=val_seed,
            exclude_classes=exclude_classes,
            limit_per_class=limit_per_class,
            on_bad_file=on_bad_file,
        )
        self.eval_transform = JetEvalTransform()
        self.max_particles, self.pad_to_max = max_particles, pad_to_max

    @property
    def feature_names(self) -> tuple[str, ...]:
        return FEATURES

    def setup(self, stage: str | None = None) -> None:
        """The data layer's setup, then the feature statistics of the training jets (of
        the classes training keeps)."""
        super().setup(stage)
        mean, std = self.source.statistics(self.root, self._excluded())
        self.mean, self.std = torch.from_numpy(mean), torch.from_numpy(std)

    def dataset(self, samples: list[Sample], transform: JetTransform) -> JetSet:
        collate = JetCollate(transform, self.max_particles, self.pad_to_max)
        return JetSet(self.source.jets(self.root), samples, collate, self.on_bad_file)

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        return normalize_points(batch, self.mean, self.std)
