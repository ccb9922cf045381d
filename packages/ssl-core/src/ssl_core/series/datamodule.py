"""Series through the data layer: sources of series with optional targets, and the
datamodule every series project uses.

A series source is a :class:`~ssl_core.data.sources.Source` whose samples are named by
id, not by file path: ``JapaneseVowels_TRAIN.ts:16`` (file and line) or ``bbh.npz:17``
(class file and row). Split files, embeddings and messages name samples by these ids.
:class:`UEASeries` reads a UEA/UCR archive dataset (``<name>_TRAIN.ts`` is the training
set, ``<name>_TEST.ts`` the test set); :class:`GWAKStrain` generates GWAK-style strain on
first use (Raikman et al. 2023) under ``$SSL_CORE_CACHE`` and can restrict the training
classes (GWAK's anomaly test: background, glitches and BBH; the other classes only in test).

:class:`SeriesDataModule` is :class:`~ssl_core.data.ClassificationDataModule` with series
in place of images: splits, pools, ``train_on`` and the evaluation loaders are the data
layer's; views are made a batch at a time in the collation
(:class:`~ssl_core.series.collate.SeriesCollate`, each sample from its own seed), and
batches are standardised per channel on the device from the training set's statistics.

- [0] Raikman et al., GWAK, Mach. Learn.: Sci. Technol. 5 (2024), arXiv:2309.11537
- [1] Yue et al., TS2Vec, AAAI 2022, arXiv:2106.10466 (the sensor views' crops)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_warn

from ssl_core.data import BadDataError, ClassificationDataModule, Source
from ssl_core.series.augment import (
    SeriesEvalTransform,
    contrastive_transform,
    weak_strong_transform,
)
from ssl_core.series.collate import SeriesCollate, SeriesDataset, channel_statistics
from ssl_core.series.gw import CLASSES, GWAKSource, GWConfig, dataset_key, ensure_dataset
from ssl_core.series.ts import TsSource, describe_bad, read_ts

Sample = tuple[str, int | None]


class SeriesSource(Source):
    """What every series source shares: ids as sample paths, classes from the data,
    ``read(root, id)`` -> ``(C, T)`` float32. A subclass says whether a root holds its
    data (:meth:`exists`), how to open it (:meth:`open`: an object with ``ids``,
    ``targets``, ``index(id)``, ``read(i)``, ``bad_samples()``, as
    :class:`~ssl_core.series.ts.TsSource` and :class:`~ssl_core.series.gw.GWAKSource`)
    and which split a sample is in (:meth:`split_of`)."""

    name = "series"
    extensions = ()  # nothing in an unlabeled/ folder is a series
    strata_names = ()

    def __init__(self, class_names=None, channels: int | None = None) -> None:
        super().__init__(class_names, channels, mean=(0.0,), std=(1.0,))
        self._opened: dict[Path, Any] = {}

    def exists(self, root: Path) -> bool:
        raise NotImplementedError

    def open(self, root: Path) -> Any:
        raise NotImplementedError

    def split_of(self, sample_id: str, target: int) -> str | None:
        """``"train"``, ``"test"`` or ``None`` (listed in neither)."""
        raise NotImplementedError

    def load(self, root: Path) -> Any:
        """The opened data of ``root`` (opened once per root)."""
        key = Path(root).resolve()
        if key not in self._opened:
            self._opened[key] = self.open(Path(root))
        return self._opened[key]

    def list_samples(self, root: Path, split: str) -> list[Sample]:
        self.split_dir(split)  # refuses anything but train/test
        if not self.exists(Path(root)):
            return []
        data = self.load(root)
        return [
            (i, None if t < 0 else int(t))
            for i, t in zip(data.ids, data.targets.tolist(), strict=True)
            if self.split_of(i, t) == split
        ]

    def list_unlabeled(self, root: Path) -> list[str]:
        return []

    def strata(self, root: Path, samples) -> list[int]:
        """The class of each sample: splits are stratified by class."""
        return [int(t) for _, t in samples]

    def class_list(self, root: Path) -> tuple[str, ...]:
        return tuple(self.class_names)

    def read(self, root: Path, path: str) -> np.ndarray:
        data = self.load(root)
        return data.read(data.index(path))

    def bad_samples(self, root: Path) -> dict[str, str]:
        """``{id: problem}`` of every unusable series (NaN, inf, zero length)."""
        return self.load(root).bad_samples()

    def columns(self, root: Path, paths: list[str]) -> dict[str, np.ndarray]:
        """Per-sample values the embeddings carry beside the labels (none here)."""
        return {}


class UEASeries(SeriesSource):
    """A UEA/UCR archive dataset: ``<name>_TRAIN.ts`` (training, labels optional) and
    ``<name>_TEST.ts`` (the test set) in the data root (Bagnall et al. 2018).

    Args:
        dataset: The files' prefix (``JapaneseVowels``: 12 LPC channels, lengths 7-29,
            9 speakers, 270 training and 370 test series; Kudo et al. 1999).
        class_names: Class names in label order (default: the training file's
            ``@classLabel`` list).
    """

    def __init__(self, dataset: str = "JapaneseVowels", class_names: list[str] | None = None):
        super().__init__(class_names)
        self.name, self.dataset = dataset, dataset
        self.layout = f"{dataset}_TRAIN.ts and {dataset}_TEST.ts"

    def exists(self, root: Path) -> bool:
        return (Path(root) / f"{self.dataset}_TRAIN.ts").is_file()

    def open(self, root: Path) -> TsSource:
        train = Path(root) / f"{self.dataset}_TRAIN.ts"
        test = Path(root) / f"{self.dataset}_TEST.ts"
        names = self.class_names or tuple(read_ts(train).class_names)
        data = TsSource([train] + ([test] if test.is_file() else []), class_names=names)
        self.class_names, self.channels = tuple(names), data.channels
        return data

    def split_of(self, sample_id: str, target: int) -> str:
        return "train" if sample_id.startswith(f"{self.dataset}_TRAIN.ts:") else "test"


def parse_parameters(text: str | None) -> dict[str, Any]:
    """``"n_train=1000,seed=0"`` -> ``{"n_train": 1000, "seed": 0}`` (integers, floats or
    words); ``""``/``None`` -> ``{}``: a generated source's parameters in ``params.yaml``."""
    out: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"expected key=value, got {part!r} in {text!r}")
        out[key.strip()] = _number(value.strip())
    return out


def _number(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


class GWAKStrain(SeriesSource):
    """Generated GWAK-style strain (:mod:`ssl_core.series.gw`: H1/L1 whitened windows of
    background, glitches, BBH chirps, sine-Gaussians, white-noise bursts), written on first
    use under ``$SSL_CORE_CACHE/gwak/<hash of the parameters>`` (the default root).

    Rows ``0 .. n_train - 1`` of each class file are training windows, the next ``n_test``
    the test set; sample ``i`` of a class is the same whatever ``n_train + n_test`` is.

    Args:
        n_train: Training windows per class.
        n_test: Test windows per class (1,000 background windows resolve a false-alarm
            rate of 1e-3).
        seed: The generator's base seed.
        train_classes: Classes listed for training (GWAK's anomaly test: ``background``,
            ``glitch``, ``bbh``); the test set holds every class, so the others are
            unseen anomalies.
    """

    name = "gwak"
    channels = 2
    layout = "config.json and <class>.npz files written by ssl_core.series.write_dataset"

    def __init__(
        self,
        n_train: int = 1000,
        n_test: int = 1000,
        seed: int = 0,
        train_classes: list[str] | None = None,
    ) -> None:
        super().__init__(CLASSES, 2)
        self.n_train, self.n_test, self.seed = n_train, n_test, seed
        self.train_classes = tuple(train_classes or CLASSES)
        unknown = set(self.train_classes) - set(CLASSES)
        if unknown:
            raise ValueError(f"Unknown classes {sorted(unknown)}; choose from {list(CLASSES)}")
        self.config = GWConfig()
        cache = os.environ.get("SSL_CORE_CACHE") or Path.home() / ".cache" / "ssl-core"
        key = dataset_key(n_train + n_test, seed, CLASSES, self.config)
        self.default_root = Path(cache) / "gwak" / key

    @property
    def held_out(self) -> list[str]:
        """Classes only in the test set."""
        return [c for c in CLASSES if c not in self.train_classes]

    def exists(self, root: Path) -> bool:
        return (Path(root) / "config.json").is_file()

    def generate(self, root: str | Path | None = None) -> Path:
        """Write the strain to ``root`` (default: :attr:`default_root`) unless it is there."""
        root = self.default_root if root is None else root
        return ensure_dataset(root, self.n_train + self.n_test, self.seed, CLASSES, self.config)

    def open(self, root: Path) -> GWAKSource:
        return GWAKSource(root, self.n_train + self.n_test, self.seed, CLASSES, self.config)

    def split_of(self, sample_id: str, target: int) -> str | None:
        row = int(sample_id.rsplit(":", 1)[1])
        if row >= self.n_train:
            return "test"
        return "train" if CLASSES[target] in self.train_classes else None

    def columns(self, root: Path, paths: list[str]) -> dict[str, np.ndarray]:
        """``snr``: each window's network SNR (0: background), for efficiency vs SNR."""
        data = self.load(root)
        return {"snr": data.snr[[data.index(p) for p in paths]].astype(np.float32)}


def generated_source(source: Source, variant: str | None) -> tuple[Source, Path]:
    """The data stage of a generated source (``params.yaml``: ``source: generate``,
    ``variant: "n_train=1000,seed=0"``): the source with those parameters (its own
    defaults for the others) and its data, written under ``$SSL_CORE_CACHE``, never into
    a DVC output."""
    source = type(source)(**parse_parameters(variant))
    return source, source.generate()


class SeriesItems(SeriesDataset):
    """Series listed as ``(id, target)`` of a series source's data, as
    :class:`~ssl_core.series.collate.SeriesDataset` items (with the sampler's seeds).

    Attributes:
        collate_fn: How the loader batches the items (:class:`SeriesCollate` with this
            set's views): what :func:`ssl_core.data.datamodule.make_loader` uses.
        columns: Per-sample values (e.g. ``snr``) by position, for the embedding writer.
    """

    def __init__(self, data, samples: list[Sample], on_bad_file: str, collate_fn, columns):
        indices = [data.index(p) for p, _ in samples]
        labels = [-1 if t is None else int(t) for _, t in samples]
        super().__init__(data, indices, labels, on_bad_file)
        self.samples, self.collate_fn, self.columns = list(samples), collate_fn, columns


def recipe(name: str, kind: str, sample_rate: float):
    """Views by name: ``contrastive`` (two, SimCLR/SupCon/...), ``weak`` (one weak:
    supervised, Pseudo-Label), ``weak_strong`` (FixMatch's unlabeled), ``two_weak``
    (Mean Teacher) (:mod:`ssl_core.series.augment`)."""
    if name == "contrastive":
        return contrastive_transform(kind, 2, sample_rate)
    counts = {"weak": (1, 0), "weak_strong": (1, 1), "two_weak": (2, 0)}
    if name not in counts:
        raise ValueError(f"Unknown views {name!r}; one of ['contrastive', *{list(counts)}]")
    return weak_strong_transform(kind, *counts[name], sample_rate=sample_rate)


class SeriesDataModule(ClassificationDataModule):
    """Series of a :class:`SeriesSource` for ssl-core methods (see the module docstring;
    :class:`~ssl_core.data.ClassificationDataModule` for splits, pools and loaders).

    Batches: ``{"views": [{"series": (B, C, T), "mask": (B, T)}, ...], "label", "index"}``
    in training, ``{"image": {"series", "mask"}, ...}`` in evaluation (``T``: the batch's
    longest series), standardised per channel on the device with the mean and std of the
    training samples (outside validation). A bad series (NaN, inf, zero length) stops
    ``setup`` with one line naming it; with ``on_bad_file: skip`` it is left out of the
    evaluation sets and counted where a training batch meets it (``train/skipped_files``).

    Args:
        source: The series (:class:`UEASeries`, :class:`GWAKStrain`, ...).
        root: The data root (default: the source's ``default_root``).
        kind: Augmentations for ``sensor`` series or ``strain`` (two detectors).
        sample_rate: Samples per second (strain's detector shift of <= 10 ms).
        train_views: Views of a training sample in ``train_on: all`` (see :func:`recipe`).
        labeled_views: Views of a labeled sample (default: ``weak`` under ``semi``, else
            ``train_views``).
        unlabeled_views: Views of an unlabeled sample (default: ``weak_strong`` under
            ``semi``, else ``train_views``).
        max_length: Keep at most this many steps of a series.
        train_on: See :class:`~ssl_core.data.DataModule`.
        split: See :class:`~ssl_core.data.DataModule`.
        val_fraction: See :class:`~ssl_core.data.DataModule`.
        val_seed: See :class:`~ssl_core.data.DataModule`.
        unlabeled_ratio: See :class:`~ssl_core.data.DataModule`.
        batch_size: See :class:`~ssl_core.data.DataModule`.
        eval_batch_size: Batch size of evaluation/prediction loaders.
        num_workers: See :class:`~ssl_core.data.DataModule`.
        exclude_classes: Classes left out of training (besides the source's held-out ones).
        limit_per_class: Only the first N series of each class (smoke runs).
        on_bad_file: See above.
    """

    def __init__(
        self,
        source: SeriesSource,
        root: str | None = None,
        kind: Literal["sensor", "strain"] = "sensor",
        sample_rate: float = 2048.0,
        train_views: str = "contrastive",
        labeled_views: str | None = None,
        unlabeled_views: str | None = None,
        max_length: int | None = None,
        train_on: Literal["all", "labeled", "semi"] = "all",
        split: str | None = None,
        val_fraction: float = 0.1,
        val_seed: int = 0,
        unlabeled_ratio: int = 1,
        batch_size: int = 64,
        eval_batch_size: int = 256,
        num_workers: int = 0,
        exclude_classes: list[str] | None = None,
        limit_per_class: int | None = None,
        on_bad_file: Literal["error", "skip"] = "error",
    ) -> None:
        semi = train_on == "semi"
        labeled_views = labeled_views or ("weak" if semi else train_views)
        unlabeled_views = unlabeled_views or ("weak_strong" if semi else train_views)
        excluded = list(exclude_classes or []) + list(getattr(source, "held_out", []))
        super().__init__(
            source=source, root=root, train_on=train_on,
            train_transform=recipe(train_views, kind, sample_rate),
            labeled_transform=recipe(labeled_views, kind, sample_rate),
            unlabeled_transform=recipe(unlabeled_views, kind, sample_rate),
            unlabeled_ratio=unlabeled_ratio, batch_size=batch_size,
            eval_batch_size=eval_batch_size, num_workers=num_workers,
            exclude_classes=excluded, split=split, val_fraction=val_fraction,
            val_seed=val_seed, limit_per_class=limit_per_class, on_bad_file=on_bad_file,
        )  # fmt: skip
        self.eval_transform = SeriesEvalTransform()
        self.max_length = max_length

    def prepare_data(self) -> None:
        """Generate a generated source's data on first use, then check the root."""
        if hasattr(self.source, "generate"):
            self.source.generate(self.root)
        super().prepare_data()

    def dataset(self, samples: list[Sample], transform) -> SeriesItems:
        collate = SeriesCollate(transform, self.max_length)
        columns = self.source.columns(self.root, [p for p, _ in samples])
        data = self.source.load(self.root)
        return SeriesItems(data, samples, self.on_bad_file, collate, columns)

    def build(self, stage: str | None = None) -> None:
        """Name bad series (or leave them out of evaluation), make the sets, and measure
        the per-channel statistics of the training samples."""
        bad = self.source.bad_samples(self.root)
        if bad and self.on_bad_file == "error":
            raise BadDataError(
                f"{describe_bad(bad)} in {self.root}: fix them, or leave them out with "
                "--data.on_bad_file skip (they are counted)"
            )
        if bad:
            rank_zero_warn(f"{describe_bad(bad)}: left out (on_bad_file skip)")
            for name in ("val_samples", "pool_samples", "test_samples"):
                setattr(self, name, [s for s in getattr(self, name) if s[0] not in bad])
        super().build(stage)
        good = [p for p, _ in self.train_set.samples if p not in bad]
        if not good:
            raise BadDataError(f"No usable training series in {self.root}")
        mean, std = channel_statistics(self.source.read(self.root, p) for p in good)
        self.mean = torch.as_tensor(mean, dtype=torch.float32)
        self.std = torch.as_tensor(std, dtype=torch.float32)

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        """Standardise ``image``/``views`` per channel (:func:`normalize_series_batch`)."""
        from ssl_core.series.collate import normalize_series_batch

        device = self.trainer.strategy.root_device if self.trainer is not None else "cpu"
        return normalize_series_batch(batch, self.mean.to(device), self.std.to(device))
