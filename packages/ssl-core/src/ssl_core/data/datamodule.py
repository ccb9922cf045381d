"""The datamodules: :class:`DataModule` owns what every task shares (splits, pools,
loaders), :class:`ClassificationDataModule` serves classification of every kind of data
(``train_on`` and the batches: docs/methods.md, "Batches").
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path
from typing import ClassVar, Literal

import torch
from lightning.pytorch import LightningDataModule
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from lightning.pytorch.utilities import CombinedLoader, rank_zero_info, rank_zero_warn
from torch.utils.data import DataLoader

from ssl_core.data.datasets import SampleDataset, SeededSampler, check_choice, collate
from ssl_core.data.download import ensure_data
from ssl_core.data.modality import Images, Modality
from ssl_core.data.sources import BadDataError, DataNotFoundError, ImageFolder, Sample, Source
from ssl_core.data.views import Views, map_views
from ssl_core.errors import BadInputError
from ssl_core.splits import LabelSplit, make_split, resolve_split


def describe_bad(bad: dict[str, str], noun: str = "samples", limit: int = 5) -> str:
    """One line naming bad samples: ``"3 bad series: a.ts:17 (zero length), ..."``."""
    shown = ", ".join(f"{k} ({v})" for k, v in list(bad.items())[:limit])
    more = f" and {len(bad) - limit} more" if len(bad) > limit else ""
    return f"{len(bad)} bad {noun}: {shown}{more}"


def limit(samples: list[Sample], listing: list[Sample], per_class: int | None) -> list[Sample]:
    """``samples`` among the first ``per_class`` of their class in ``listing``."""
    if not per_class:
        return samples
    counts: Counter = Counter()
    keep = set()
    for path, label in listing:
        counts[label] += 1
        if counts[label] <= per_class:
            keep.add(path)
    return [s for s in samples if s[0] in keep]


class DataModule(LightningDataModule):
    """What every task's datamodule shares (splits, pools, loaders); also the contract
    the methods, :mod:`ssl_core.embeddings` and the mask writer read.

    Args:
        source: The dataset (how to list and read its samples).
        modality: The kind of data (default: the source's; images when it names none).
        root: The data root (default: the source's ``default_root`` for ``variant``).
        download: Download the source's archive when ``root`` holds no data.
        variant: Which of the source's archives (default: its first).
        train_on: ``all``, ``labeled`` or ``semi`` (docs/methods.md, "Batches").
        split: Label split: a name (``frac0.10-seed0``, ``n50-seed0``, ``all``; see
            :mod:`ssl_core.splits`) or a path to a split file.
        redraw_split: Redraw a split made on first use when this root's samples changed.
        test_on: What ``test`` and ``predict`` score: ``"test"`` (the test split),
            ``"val"`` (the validation split carved from training: where choices are made,
            never on the test set) or ``"all"`` (every sample of the root, no label
            split, no kNN bank).
        remeasure_statistics: Normalize with statistics measured on this root even when a
            checkpoint is loaded (default: the checkpoint's).
        val_fraction: Share of the samples with targets in the validation split.
        val_seed: Seed of the validation split.
        unlabeled_ratio: Unlabeled samples per labeled sample in a ``semi`` step (mu).
        batch_size: Training batch size (per device); in ``semi`` the labeled batch.
        num_workers: Dataloader worker processes.
        on_bad_file: A sample that cannot be read: ``error`` ends the run naming it;
            ``skip`` leaves it out and counts it in the log (``train/skipped_files``).
    """

    #: What ``train_on`` may be for this task.
    train_modes: ClassVar[tuple[str, ...]] = ("all", "labeled", "semi")
    #: What a target is, in messages.
    target_name: ClassVar[str] = "target"
    #: How to train on data without targets, in messages.
    without_targets: ClassVar[str] = "--data.train_on all trains a self-supervised method without"
    shift: str | None = None
    exclude_classes: tuple[str, ...] | list[str] = ()

    def __init__(
        self,
        source: Source,
        root: str | None = None,
        download: bool = False,
        variant: str | None = None,
        train_on: str = "all",
        split: str | None = None,
        val_fraction: float = 0.1,
        val_seed: int = 0,
        unlabeled_ratio: int = 1,
        batch_size: int = 256,
        num_workers: int = 8,
        on_bad_file: Literal["error", "skip"] = "error",
        modality: Modality | None = None,
        redraw_split: bool = False,
        test_on: Literal["test", "val", "all"] = "test",
        remeasure_statistics: bool = False,
    ) -> None:
        super().__init__()
        self.source = source
        self.modality = modality if modality is not None else (source.modality or Images)()
        archives = source.archives
        if variant is not None and variant not in archives:
            raise BadInputError(f"Unknown variant {variant!r}; choose from {list(archives)}")
        self.archive = (
            (archives.get(variant) or next(iter(archives.values()))) if archives else None
        )
        if root:
            self.root = Path(root).expanduser()
        elif source.default_root is not None:
            self.root = Path(source.default_root) / (self.archive.folder if self.archive else "")
        else:
            raise BadInputError(f"{source.name} needs a data root: --data.root PATH")
        check_choice("train_on", train_on, self.train_modes)
        if train_on == "semi" and not split:
            raise BadInputError(
                "train_on='semi' needs a label split (--data.split all, or frac0.10-seed0)"
            )
        if unlabeled_ratio < 1:
            raise BadInputError(f"unlabeled_ratio must be >= 1, not {unlabeled_ratio}")
        check_choice("on_bad_file", on_bad_file)
        check_choice("test_on", test_on, ("test", "val", "all"))
        self.download, self.train_on, self.split = download, train_on, split
        self.redraw_split = redraw_split
        self.test_on, self.remeasure_statistics = test_on, remeasure_statistics
        self.val_fraction, self.val_seed = val_fraction, val_seed
        self.unlabeled_ratio, self.batch_size = unlabeled_ratio, batch_size
        self.num_workers, self.on_bad_file = num_workers, on_bad_file
        self.mean = torch.tensor(source.mean, dtype=torch.float32)  # until setup measures
        self.std = torch.tensor(source.std, dtype=torch.float32)
        self.label_split: LabelSplit | None = None

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.source.class_names)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def in_channels(self) -> int:
        return self.source.channels

    @property
    def predict_split_names(self) -> list[str]:
        return ["test"]

    def prepare_data(self) -> None:
        """Make or download the data where the source can, then check the root."""
        self.source.prepare(self.root)
        ensure_data(self.source, self.root, self.download, self.archive)

    def dataset(self, samples: list[Sample], transform) -> SampleDataset:
        return self.modality.dataset(self, samples, transform)

    def setup(self, stage: str | None = None) -> None:
        """List the samples once and split them: sets ``listing`` (every training
        sample), ``val_samples``, ``pool_samples`` (with targets, outside validation),
        ``labeled_samples`` (the split's, with the split's labels), ``unlabeled_samples``
        (targets ``None``) and ``test_samples``; the task's :meth:`build` makes the sets."""
        self.listing = self.source.training_samples(self.root)  # a clear error if none
        targeted = [s for s in self.listing if s[1] is not None]
        free = [p for p, t in self.listing if t is None]
        if not targeted and self.train_on != "all":
            raise BadDataError(
                f"No training sample of {self.root} has a {self.target_name}: train_on="
                f"{self.train_on!r} needs labeled samples ({self.without_targets})"
            )
        paths, strata = [p for p, _ in targeted], self.source.strata(self.root, targeted)
        args = (self.source.name, paths, strata)
        val = {"val_fraction": self.val_fraction, "val_seed": self.val_seed, "unlabeled": free}
        if self.split and self.test_on != "all":  # "all" scores the root: no label split
            splits_dir, bind = self.source.splits_dir, {"root": self.root, "say": rank_zero_info}
            parts = self.label_split = resolve_split(
                self.split, *args, splits_dir, **val, **bind, redraw=self.redraw_split
            )
        else:
            parts = make_split(*args, **val)
        target_of, validation = dict(targeted), set(parts.validation)
        self.val_samples = [(p, target_of[p]) for p in parts.validation]
        self.pool_samples = [s for s in targeted if s[0] not in validation]
        self.labeled_samples = list(parts.labeled)
        self.unlabeled_samples = [(p, None) for p in parts.unlabeled]
        self.test_samples = self.source.list_samples(self.root, "test")
        if self.test_on == "all":
            if stage == "fit":
                raise BadInputError("--data.test_on all is for test and predict, not fit")
            self.test_samples = self.listing + self.test_samples
        self.bad = self.source.bad_samples(self.root)
        if self.bad:  # one line naming them, or with on_bad_file skip left out (and counted)
            what = describe_bad(self.bad, self.modality.noun)
            if self.on_bad_file == "error":
                raise BadDataError(
                    f"{what} in {self.root}: fix them, or leave them out with "
                    "--data.on_bad_file skip (they are counted)"
                )
            rank_zero_warn(f"{what}: left out (on_bad_file skip)")
            for part in ("val", "pool", "labeled", "unlabeled", "test"):
                name = f"{part}_samples"
                setattr(self, name, [s for s in getattr(self, name) if s[0] not in self.bad])
        self.build(stage)
        if self.test_on == "val":  # what fit validates on, after build's limits
            self.test_samples = list(self.val_samples)
        if self.train_on == "semi" and not self.unlabeled_set:
            raise BadDataError(f"Split {self.split} has no unlabeled samples for train_on='semi'")
        if self.train_on != "all" and not self.labeled_set:
            raise BadDataError(f"Split {self.split} has no labeled samples in {self.root}")
        if stage == "fit" and not self.val_samples:
            raise BadDataError(
                f"The validation split of {self.root} is empty (val_fraction={self.val_fraction})"
            )

    def build(self, stage: str | None) -> None:
        """Make ``train_set``, ``labeled_set``, ``unlabeled_set`` from the sample lists."""
        raise NotImplementedError

    def reading_state(self) -> dict:
        """What a model needs to read data as it was trained to (kept in every checkpoint):
        normalization, class names, channels and the modality's settings."""
        return {
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "class_names": list(self.class_names),
            "channels": self.in_channels,
            "modality": type(self.modality).__name__,
            "settings": self.modality.settings(),
        }

    def use_reading_state(self, state: dict) -> None:
        """Read this data as the checkpoint's model was trained to (its normalization unless
        ``remeasure_statistics``); other classes, channels or settings are refused."""
        ours = self.reading_state()
        for key, what in (("class_names", "classes"), ("channels", "channels"),
                          ("modality", "kind of data"), ("settings", "data settings")):  # fmt: skip
            if key in state and state[key] != ours[key]:
                raise BadInputError(
                    f"The checkpoint's model was trained on {what} {state[key]}; this data "
                    f"({self.root}) has {ours[key]}: give the same settings as its fit "
                    "(its run folder's config.yaml), or data with those classes"
                )
        if self.remeasure_statistics:
            rank_zero_info("Normalization measured on this root (--data.remeasure_statistics)")
            return
        self.mean = torch.tensor(state["mean"], dtype=torch.float32)
        self.std = torch.tensor(state["std"], dtype=torch.float32)

    def checked_test_samples(self) -> list[Sample]:
        """The test samples, refused when there are none or one has no target."""
        if not self.test_samples:
            raise DataNotFoundError(
                f"No test samples in {self.root / self.source.test_dir}: `train test` and the "
                "pipeline's final evaluation read the project's test set"
            )
        missing = [p for p, t in self.test_samples if t is None]
        if missing:
            raise DataNotFoundError(
                f"{len(missing)} test samples of {self.root} have no {self.target_name}, "
                f"e.g. {missing[:3]}: a test set is scored on every sample"
            )
        return self.test_samples

    def loader(self, dataset: SampleDataset, batch_size: int, train: bool = False) -> DataLoader:
        """The loader of every datamodule. Training: shuffled by :class:`SeededSampler`,
        full batches, the batch clamped to the set's size. Evaluation: in order and, under
        DDP, every sample on exactly one rank (Lightning's sampler pads with repeats)."""
        if len(dataset) == 0:
            raise DataNotFoundError(f"No samples for this loader in {self.root}")
        sampler = None
        if train:
            sampler = SeededSampler(len(dataset), shuffle=True)
            # Lightning calls set_epoch only after the first prefetch: start from its epoch
            trainer = self.trainer
            sampler.set_epoch(trainer.fit_loop.epoch_progress.current.processed if trainer else 0)
            batch_size = min(batch_size, len(dataset))
        elif (
            torch.distributed.is_available()
            and torch.distributed.is_initialized()
            and len(dataset) >= torch.distributed.get_world_size()  # every rank needs a sample
        ):
            sampler = UnrepeatedDistributedSampler(dataset, shuffle=False)
        return DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=sampler,
            drop_last=train,
            num_workers=self.num_workers,
            collate_fn=getattr(dataset, "collate_fn", collate),  # a modality's own batching
            persistent_workers=self.num_workers > 0,
            pin_memory=torch.cuda.is_available(),
        )

    def train_dataloader(self) -> DataLoader | CombinedLoader:
        if self.train_on != "semi":
            return self.loader(self.train_set, self.batch_size, train=True)
        labeled = self.loader(self.labeled_set, self.batch_size, train=True)
        unlabeled_size = self.batch_size * self.unlabeled_ratio
        unlabeled = self.loader(self.unlabeled_set, unlabeled_size, train=True)
        return CombinedLoader({"labeled": labeled, "unlabeled": unlabeled}, mode="max_size_cycle")

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        return map_views(batch, lambda view: self.modality.normalize(view, self.mean, self.std))


class ClassificationDataModule(DataModule):
    """Any classification project's data, of any modality. A source that is no
    :class:`~ssl_core.data.sources.ImageFolder` is classified by its strata.

    Args:
        source: The dataset (default: :class:`~ssl_core.data.sources.ImageFolder`).
        train_transform: Views of a training sample (default: the modality's
            ``contrastive`` recipe, two views).
        labeled_transform: Views of a labeled sample (default: ``weak`` under ``semi``,
            else ``train_transform``).
        unlabeled_transform: Views of an unlabeled sample (default: ``weak_strong`` under
            ``semi``, else ``train_transform``).
        eval_batch_size: Batch size of evaluation/prediction loaders.
        exclude_classes: Classes (folder or class names) left out of training.
        shift: Domain shift for prediction (``noise:0.1``, ``hue:0.1``, ``blur:2``): adds a
            shifted copy of the test set.
        limit_per_class: Use only the first N samples of each class (smoke runs).
        **kwargs: :class:`DataModule` arguments (``root``, ``split``, ``batch_size``, ...).
    """

    target_name = "class"

    def __init__(
        self,
        source: Source | None = None,
        train_on: Literal["all", "labeled", "semi"] = "all",
        train_transform: Views | None = None,
        labeled_transform: Views | None = None,
        unlabeled_transform: Views | None = None,
        eval_batch_size: int = 512,
        exclude_classes: list[str] | None = None,
        shift: str | None = None,
        limit_per_class: int | None = None,
        **kwargs,
    ) -> None:
        source = source if source is not None else ImageFolder()
        super().__init__(source, train_on=train_on, **kwargs)
        semi = train_on == "semi"
        self.eval_batch_size = eval_batch_size
        self.train_transform = train_transform or self.modality.recipe("contrastive", self)
        self.labeled_transform = labeled_transform or (
            self.modality.recipe("weak", self) if semi else self.train_transform
        )
        self.unlabeled_transform = unlabeled_transform or (
            self.modality.recipe("weak_strong", self) if semi else self.train_transform
        )
        self.eval_transform = self.modality.recipe("eval", self)
        if shift:  # fail at config time, not after the model has loaded
            self.modality.shift(self.eval_transform, shift)
        self.exclude_classes = list(exclude_classes or []) + list(source.held_out)
        self.shift, self.limit_per_class = shift, limit_per_class

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
        train = ["train"] if self.test_on != "all" else []  # "all": only what is scored
        return [*train, "test"] + (["test_shifted"] if self.shift else [])

    def _excluded(self) -> set[int]:
        ids, names = self.class_ids, self.class_names
        for c in self.exclude_classes:
            if c not in ids and c not in names:
                known = list(ids) + [n for n in names if n not in ids]
                raise BadInputError(f"Unknown class {c!r} to leave out; the classes: {known}")
        return {ids.index(c) if c in ids else names.index(c) for c in self.exclude_classes}

    def _classes(self, samples: list[Sample]) -> list[Sample]:
        """``(path, class)``: a sample's target (an ImageFolder's) or its stratum."""
        if isinstance(self.source, ImageFolder):
            return samples
        strata = iter(self.source.strata(self.root, [s for s in samples if s[1] is not None]))
        return [(p, None if t is None else next(strata)) for p, t in samples]

    def build(self, stage: str | None = None) -> None:
        excluded = self._excluded()
        listing = self._classes(self.listing)

        dropped = {p for p, y in listing if y in excluded}

        def keep(samples: list[Sample]) -> list[Sample]:
            samples = limit(samples, listing, self.limit_per_class)
            return [s for s in samples if s[1] not in excluded and s[0] not in dropped]

        self.val_samples = limit(self._classes(self.val_samples), listing, self.limit_per_class)
        test = self._classes(self.test_samples)
        self.test_samples = limit(test, test, self.limit_per_class)
        pool = self._classes(self.pool_samples)
        self.pool_samples = keep(pool)  # clean labels: what predict writes
        if self.label_split:
            labeled = bank = keep(self.labeled_samples)
        else:  # every sample with a class outside validation, with the training labels
            labeled, bank = keep(self.source.relabel(self.root, pool)), self.pool_samples
        unlabeled = keep(self.unlabeled_samples)
        self.bank_set = self.dataset(bank, self.eval_transform)
        # all: every sample outside validation; labels of labeled ones, -1 for the others
        known = {p for p, _ in labeled}
        rest = [(p, None) for p, _ in unlabeled if p not in known]
        self.train_set = self.dataset(labeled + rest, self.train_transform)
        self.labeled_set = self.dataset(labeled, self.labeled_transform)
        self.unlabeled_set = self.dataset(unlabeled, self.unlabeled_transform)
        if self.train_on != "all":
            self.train_set = self.labeled_set
        self.mean, self.std = self.modality.statistics(self)

    def val_dataloader(self) -> list[DataLoader]:
        queries = self.dataset(self.val_samples, self.eval_transform)
        bank = self.loader(self.bank_set, self.eval_batch_size)
        return [bank, self.loader(queries, self.eval_batch_size)]

    def test_dataloader(self) -> list[DataLoader]:
        """``[bank, test]``: the online kNN's bank (none with ``test_on: all``) and the test set."""
        test = self.dataset(self.checked_test_samples(), self.eval_transform)
        if self.test_on == "all":
            bank = DataLoader(self.dataset([], self.eval_transform))  # no batch
        else:
            bank = self.loader(self.bank_set, self.eval_batch_size)
        return [bank, self.loader(test, self.eval_batch_size)]

    def predict_dataloader(self) -> list[DataLoader]:
        sets = [self.dataset(self.test_samples, self.eval_transform)]
        if self.test_on != "all":
            sets.insert(0, self.dataset(self.pool_samples, self.eval_transform))
        if self.shift:
            shifted = self.modality.shift(self.eval_transform, self.shift)
            sets.append(self.dataset(self.test_samples, shifted))
        return [self.loader(s, self.eval_batch_size) for s in sets]
