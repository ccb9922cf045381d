"""One datamodule for every classification project: splits, batches, loaders.

A project gives a *source* (:class:`~ssl_core.data.sources.ImageFolder` or a subclass:
how to list and read its files); everything here is generic.

- ``train_dataloader``: what a method trains on, chosen by ``train_on``:

  - ``"all"`` (self-supervised: SimCLR, BYOL, ...): every training image outside the
    validation split, through ``train_transform`` (default: two SimCLR views).
  - ``"labeled"`` (Supervised, SupCon, fine-tuning): the split's labeled images with the
    split's labels (which may be pseudo-labels), through ``labeled_transform``. Without
    a split: every training image outside the validation split, with its label.
  - ``"semi"`` (FixMatch, Mean Teacher, Pseudo-Label, SemiSupCon): a dict
    ``{"labeled": batch, "unlabeled": batch}`` per step, from Lightning's
    ``CombinedLoader`` in ``max_size_cycle`` mode: the shorter loader restarts until the
    longer one (usually the unlabeled pool) is exhausted. The unlabeled batch is
    ``unlabeled_ratio`` (FixMatch's mu) times the labeled one; its labels are ``-1``.

  Batches have named fields (:mod:`ssl_core.data.datasets`): ``views`` (a list of
  ``(B, C, H, W)`` tensors), ``label`` ``(B,)``, ``index`` ``(B,)``. Every sample's views
  come from its own seed (:class:`~ssl_core.data.datasets.SeededSampler`), so each
  dataloader worker draws its own augmentations.
- ``val_dataloader``: ``[bank, queries]`` for the online kNN probe: the labeled training
  images (the memory bank) and the *validation split* carved from the training data
  (:mod:`ssl_core.splits`), both through a deterministic resize + center crop (field
  ``image``). Choices are made on it, never on the test set.
- ``test_dataloader``: ``[bank, test]``: the same probe on the project's test set
  (``train test`` and the pipeline's final evaluation only).
- ``predict_dataloader``: ``[train, test]`` (every training image outside validation
  and the test set, deterministic view) for writing embeddings, plus the test set
  through ``shift`` when set; names in ``predict_split_names``.

Images stay ``uint8`` until they reach the device; ``on_after_batch_transfer``
normalizes the ``image``/``views`` fields only.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import torch
from lightning.pytorch import LightningDataModule
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from lightning.pytorch.utilities import CombinedLoader
from torch.utils.data import DataLoader

from ssl_core.data.datasets import ImageDataset, SeededSampler, collate
from ssl_core.data.download import ensure_data
from ssl_core.data.sources import DataNotFoundError, ImageFolder, Sample
from ssl_core.evaluate.shift import ShiftTransform, parse_shift
from ssl_core.splits import LabelSplit, make_validation, resolve_split
from ssl_core.transforms import EvalTransform, MultiViewTransform, SimCLRTransform

IMAGE_KEYS = ("image", "views")


def normalize_images(x: Any, mean: torch.Tensor, std: torch.Tensor) -> Any:
    """Normalize a ``uint8`` ``(B, C, H, W)`` tensor, or each of a list of them."""
    if isinstance(x, list | tuple):
        return type(x)(normalize_images(v, mean, std) for v in x)
    if isinstance(x, torch.Tensor) and x.dtype == torch.uint8 and x.ndim == 4:
        m = mean.to(x.device).view(1, -1, 1, 1)
        s = std.to(x.device).view(1, -1, 1, 1)
        return (x.float().div_(255.0) - m) / s
    return x


def normalize_batch(batch: Any, mean: torch.Tensor, std: torch.Tensor) -> Any:
    """Normalize the ``image`` and ``views`` fields of a batch (also inside the
    ``labeled``/``unlabeled`` parts of a semi-supervised batch); nothing else, so masks,
    labels and indices pass untouched."""
    if not isinstance(batch, dict):
        return batch
    return {
        k: normalize_images(v, mean, std)
        if k in IMAGE_KEYS
        else (normalize_batch(v, mean, std) if isinstance(v, dict) else v)
        for k, v in batch.items()
    }


def limit(samples: list[Sample], listing: list[Sample], per_class: int | None) -> list[Sample]:
    """``samples`` that are among the first ``per_class`` images of their class in
    ``listing`` (the full sorted list): a small, fixed subset for smoke runs."""
    if not per_class:
        return samples
    counts: Counter[int] = Counter()
    keep = set()
    for path, label in listing:
        counts[label] += 1
        if counts[label] <= per_class:
            keep.add(path)
    return [s for s in samples if s[0] in keep]


def make_loader(
    dataset, batch_size: int, train: bool, num_workers: int, trainer=None, root: Path | None = None
) -> DataLoader:
    """The loader every datamodule of ssl-core uses (classification and segmentation).

    Training: shuffled by :class:`SeededSampler` (a seed per sample: every worker draws its
    own views), full batches only. Evaluation: in order and, under DDP, every sample on
    exactly one rank (Lightning's default DistributedSampler pads the ranks with repeated
    samples, which metrics would count twice); a set smaller than the number of ranks
    keeps Lightning's padding (a rank without samples is not allowed).
    """
    if len(dataset) == 0:
        raise DataNotFoundError(f"No images for this loader in {root}")
    if train:
        sampler = SeededSampler(len(dataset), shuffle=True)
        # Lightning calls set_epoch only after the first iterator of a process has
        # prefetched: start from the epoch it will pass (a resumed run's next epoch)
        sampler.set_epoch(trainer.fit_loop.epoch_progress.current.processed if trainer else 0)
        batch_size = min(batch_size, len(dataset))
    elif (
        torch.distributed.is_available()
        and torch.distributed.is_initialized()
        and len(dataset) >= torch.distributed.get_world_size()  # every rank needs a sample
    ):
        sampler = UnrepeatedDistributedSampler(dataset, shuffle=False)
    else:
        sampler = None
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        drop_last=train,
        num_workers=num_workers,
        collate_fn=collate,
        persistent_workers=num_workers > 0,
        pin_memory=torch.cuda.is_available(),
    )


class ClassificationDataModule(LightningDataModule):
    """Any classification project's data for ssl-core methods (see the module docstring).

    Args:
        source: The dataset (how to list and read its files).
        root: The data root (default: the source's ``default_root`` for ``variant``).
        download: Download the source's archive when ``root`` holds no data.
        variant: Which of the source's archives (default: its first).
        image_size: Side of training views and evaluation crops.
        train_on: ``all`` images (self-supervised), the split's ``labeled`` images, or
            ``semi``: labeled and unlabeled batches together (needs a ``split``).
        train_transform: Views of a training image in ``train_on="all"`` (default:
            :class:`SimCLRTransform`, two views).
        labeled_transform: Views of a labeled image (default: ``train_transform``).
        unlabeled_transform: Views of an unlabeled image (default: ``train_transform``).
        unlabeled_ratio: Unlabeled images per labeled image in a ``semi`` step (mu).
        batch_size: Training batch size (per device); in ``semi`` the labeled batch.
        eval_batch_size: Batch size of evaluation/prediction loaders.
        num_workers: Dataloader worker processes.
        exclude_classes: Classes (folder names or class names) left out of training.
        split: Label split: a name (``frac0.10-seed0``: the project's file, or made on
            first use) or a path. With a split, only its labeled images carry labels:
            they form the kNN memory bank and the labeled set of semi-supervised
            methods; self-supervised training still sees every non-validation image.
        val_fraction: Share of the training images in the validation split (the split
            file's own when a split is given).
        val_seed: Seed of the validation split.
        shift: Domain shift for prediction (``noise:0.1``, ``hue:0.1``, ``blur:2``; see
            :mod:`ssl_core.evaluate.shift`): adds a shifted copy of the test set.
        limit_per_class: Use only the first N images of each class (splits are made from
            the full list): smoke runs of a pipeline.
        on_bad_file: A file that is no readable image (or has the wrong channel count):
            ``error`` ends the run naming it; ``skip`` leaves it out and counts it in the
            log (``train/skipped_files``).
    """

    def __init__(
        self,
        source: ImageFolder | None = None,
        root: str | None = None,
        download: bool = False,
        variant: str | None = None,
        image_size: int = 128,
        train_on: Literal["all", "labeled", "semi"] = "all",
        train_transform: MultiViewTransform | None = None,
        labeled_transform: MultiViewTransform | None = None,
        unlabeled_transform: MultiViewTransform | None = None,
        unlabeled_ratio: int = 1,
        batch_size: int = 256,
        eval_batch_size: int = 512,
        num_workers: int = 8,
        exclude_classes: list[str] | None = None,
        split: str | None = None,
        val_fraction: float = 0.1,
        val_seed: int = 0,
        shift: str | None = None,
        limit_per_class: int | None = None,
        on_bad_file: Literal["error", "skip"] = "error",
    ) -> None:
        super().__init__()
        self.source = source if source is not None else ImageFolder()
        if variant is not None and variant not in self.source.archives:
            raise ValueError(
                f"Unknown variant {variant!r}; choose from {list(self.source.archives)}"
            )
        self.archive = (
            self.source.archives.get(variant) or next(iter(self.source.archives.values()))
            if self.source.archives
            else None
        )
        if root:
            self.root = Path(root).expanduser()
        elif self.source.default_root is not None:
            folder = self.archive.folder if self.archive else ""
            self.root = Path(self.source.default_root) / folder
        else:
            raise ValueError(f"{self.source.name} needs a data root: --data.root PATH")
        if train_on not in ("all", "labeled", "semi"):
            raise ValueError(f"train_on must be 'all', 'labeled' or 'semi', not {train_on!r}")
        if train_on == "semi" and not split:
            raise ValueError("train_on='semi' needs a label split (--data.split frac0.10-seed0)")
        if unlabeled_ratio < 1:
            raise ValueError(f"unlabeled_ratio must be >= 1, not {unlabeled_ratio}")
        if shift:
            parse_shift(shift)  # fail at config time, not after the model has loaded
        self.download = download
        self.image_size = image_size
        self.train_on = train_on
        channels = self.source.channels
        self.train_transform = train_transform or SimCLRTransform(
            size=image_size, channels=channels
        )
        self.labeled_transform = labeled_transform or self.train_transform
        self.unlabeled_transform = unlabeled_transform or self.train_transform
        self.eval_transform = EvalTransform(size=image_size)
        self.unlabeled_ratio = unlabeled_ratio
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.num_workers = num_workers
        self.exclude_classes = list(exclude_classes or [])
        self.split = split
        self.val_fraction = val_fraction
        self.val_seed = val_seed
        self.shift = shift
        self.limit_per_class = limit_per_class
        self.on_bad_file = on_bad_file
        self.mean = torch.tensor(self.source.mean, dtype=torch.float32)
        self.std = torch.tensor(self.source.std, dtype=torch.float32)
        self.label_split: LabelSplit | None = None

    # ----------------------------------------------------------------- facts
    @property
    def class_names(self) -> tuple[str, ...]:
        return self.source.names(self.root)

    @functools.cached_property
    def class_ids(self) -> tuple[str, ...]:
        """The source's class folders (scanned once when the source names none)."""
        return self.source.class_list(self.root)

    @property
    def num_classes(self) -> int:
        return len(self.class_ids)

    @property
    def predict_split_names(self) -> list[str]:
        return ["train", "test"] + (["test_shifted"] if self.shift else [])

    # ------------------------------------------------------------------ setup
    def prepare_data(self) -> None:
        ensure_data(self.source, self.root, self.download, self.archive)

    def _dataset(self, samples: list[Sample], transform) -> ImageDataset:
        return ImageDataset(self.root, samples, self.source.read, transform, self.on_bad_file)

    def _excluded(self) -> set[int]:
        ids, names = self.class_ids, self.class_names
        out = set()
        for c in self.exclude_classes:
            if c in ids:
                out.add(ids.index(c))
            elif c in names:
                out.add(names.index(c))
            else:
                raise ValueError(f"Unknown class {c!r}; use one of {list(ids)} or {list(names)}")
        return out

    def setup(self, stage: str | None = None) -> None:
        listing = self.source.training_samples(self.root)  # one scan, a clear error if none
        paths, labels = [p for p, _ in listing], [y for _, y in listing]
        if self.split:
            self.label_split = resolve_split(
                self.split,
                self.source.name,
                paths,
                labels,
                self.source.splits_dir,
                self.val_fraction,
                self.val_seed,
            )
            validation = set(self.label_split.validation)
        else:
            validation = set(make_validation(paths, labels, self.val_fraction, self.val_seed))
        excluded = self._excluded()

        def keep(samples: list[Sample]) -> list[Sample]:
            samples = limit(samples, listing, self.limit_per_class)
            return [s for s in samples if s[1] not in excluded]

        pool = [s for s in listing if s[0] not in validation]
        trained = keep(self.source.relabel(self.root, pool))  # labels of the training pool
        validation_samples = [s for s in listing if s[0] in validation]
        self.val_samples = limit(validation_samples, listing, self.limit_per_class)
        test = self.source.list_samples(self.root, "test")
        self.test_samples = limit(test, test, self.limit_per_class)
        self.pool_samples = keep(pool)  # clean labels: what predict writes
        if self.label_split:
            labeled = bank = keep(self.label_split.labeled)
        else:
            labeled, bank = trained, self.pool_samples
        self.bank_set = self._dataset(bank, self.eval_transform)
        self.train_set = self._dataset(trained, self.train_transform)
        self.labeled_set = self.unlabeled_set = None
        if self.train_on in ("labeled", "semi"):
            self.labeled_set = self.train_set = self._dataset(labeled, self.labeled_transform)
        if self.train_on == "semi":
            # label -1: the unlabeled images' true labels never reach the method
            label_of = dict(listing)
            unlabeled = keep([(p, label_of[p]) for p in self.label_split.unlabeled])
            if not unlabeled:
                raise ValueError(f"Split {self.split} has no unlabeled images for train_on='semi'")
            self.unlabeled_set = self._dataset(
                [(p, -1) for p, _ in unlabeled], self.unlabeled_transform
            )
        if stage == "fit" and not self.val_samples:
            raise ValueError(
                f"The validation split of {self.root} is empty (val_fraction={self.val_fraction})"
            )

    # ---------------------------------------------------------------- loaders
    def _loader(self, dataset: ImageDataset, batch_size: int, train: bool = False) -> DataLoader:
        return make_loader(dataset, batch_size, train, self.num_workers, self.trainer, self.root)

    def train_dataloader(self) -> DataLoader | CombinedLoader:
        if self.train_on != "semi":
            return self._loader(self.train_set, self.batch_size, train=True)
        loaders = {
            "labeled": self._loader(self.labeled_set, self.batch_size, train=True),
            "unlabeled": self._loader(
                self.unlabeled_set, self.batch_size * self.unlabeled_ratio, train=True
            ),
        }
        return CombinedLoader(loaders, mode="max_size_cycle")

    def val_dataloader(self) -> list[DataLoader]:
        queries = self._dataset(self.val_samples, self.eval_transform)
        return [
            self._loader(self.bank_set, self.eval_batch_size),
            self._loader(queries, self.eval_batch_size),
        ]

    def test_dataloader(self) -> list[DataLoader]:
        if not self.test_samples:
            raise DataNotFoundError(
                f"No test images in {self.root / self.source.test_dir}: `train test` and the "
                "pipeline's final evaluation read the project's test set"
            )
        test = self._dataset(self.test_samples, self.eval_transform)
        return [
            self._loader(self.bank_set, self.eval_batch_size),
            self._loader(test, self.eval_batch_size),
        ]

    def predict_dataloader(self) -> list[DataLoader]:
        sets = [
            self._dataset(self.pool_samples, self.eval_transform),
            self._dataset(self.test_samples, self.eval_transform),
        ]
        if self.shift:
            sets.append(
                self._dataset(self.test_samples, ShiftTransform(self.eval_transform, self.shift))
            )
        return [self._loader(s, self.eval_batch_size) for s in sets]

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        return normalize_batch(batch, self.mean, self.std)
