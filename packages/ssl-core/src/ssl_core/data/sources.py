"""What a project says about its data, and nothing more: a *source*, which lists the
samples of a data root, each ``(path relative to the root, target)`` (target ``None``:
unlabeled; docs/add-a-project.md, "Your data: a few labeled samples, many unlabeled").
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssl_core.data.images import IMAGE_EXTENSIONS, read_image
from ssl_core.errors import MissingInputError


class DataNotFoundError(MissingInputError):
    """A dataset is not where it is expected; the message says how to provide it."""


class BadDataError(DataNotFoundError):
    """The data cannot serve what the run asks (e.g. no labeled sample for a labeled fit)."""


@dataclass(frozen=True)
class Archive:
    """A downloadable archive (``http(s)://`` or ``file://``), its md5 and the folder it
    extracts to (the data root)."""

    url: str
    md5: str
    folder: str


Sample = tuple[str, Hashable | None]  # (path relative to the data root, target or None)


class Source:
    """What every dataset project says about its data, whatever the task; task sources
    add how to list their samples (:class:`ImageFolder`,
    :class:`ssl_core.segmentation.data.SegmentationSource`).

    Args:
        class_names: Readable class names in label order.
        channels: Channels the network sees (1 grey, 3 RGB, or a file's own count).
        mean: Per-channel mean in [0, 1] units; one value is repeated for every channel.
        std: Per-channel standard deviation in [0, 1] units (likewise).
    """

    name: str = "images"
    class_names: tuple[str, ...] = ()
    channels: int = 3
    mean: tuple[float, ...] = (0.5, 0.5, 0.5)
    std: tuple[float, ...] = (0.25, 0.25, 0.25)
    train_dir: str = "train"
    test_dir: str = "test"
    #: Folder of training samples without targets (searched at any depth).
    unlabeled_dir: str = "unlabeled"
    #: Names of the values :meth:`strata` returns (e.g. image types), in index order.
    strata_names: tuple[str, ...] = ("all",)
    extensions: tuple[str, ...] = IMAGE_EXTENSIONS
    #: Downloadable archives by variant name; the first is the default.
    archives: dict[str, Archive] = {}
    #: Where the project's DVC-tracked label splits are (``splits/<name>.json``).
    splits_dir: Path | None = None
    #: Data root when none is given (e.g. ``projects/<name>/data/<dataset>``).
    default_root: Path | None = None
    #: The layout, as the message for missing data shows it.
    layout: str = "train/... and optionally test/..."
    #: Two-class data: the positive class of ROC AUC (jets: top); ``None``: no such figures.
    signal_class: int | None = None
    #: The default :class:`~ssl_core.data.modality.Modality` subclass (``None``: images).
    modality: type | None = None
    #: Classes only in the test set (an anomaly test's unseen classes), left out of training.
    held_out: tuple[str, ...] = ()
    #: This dataset's own evaluators (``module:Class``), run by ``evaluate`` beside its own.
    evaluators: tuple[str, ...] = ()

    def __init__(
        self,
        class_names: Sequence[str] | None = None,
        channels: int | None = None,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> None:
        for name, value in (("class_names", class_names), ("mean", mean), ("std", std)):
            if value is not None:
                setattr(self, name, tuple(value))
        if channels is not None:
            self.channels = channels
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            self.mean = (self.mean[0],) * self.channels
            self.std = (self.std[0],) * self.channels

    def list_samples(self, root: Path, split: str) -> list[Sample]:
        """The samples of ``split`` (``"train"`` or ``"test"``) in the task's layout."""
        raise NotImplementedError

    def split_dir(self, split: str) -> str:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {split!r}")
        return self.train_dir if split == "train" else self.test_dir

    def list_unlabeled(self, root: Path) -> list[str]:
        """Paths of training samples without targets (``root/<unlabeled_dir>/``, any depth)."""
        folder = Path(root) / self.unlabeled_dir
        files = folder.rglob("*") if folder.is_dir() else []
        ext = self.extensions
        return sorted(p.relative_to(root).as_posix() for p in files if p.name.lower().endswith(ext))

    def training_samples(self, root: Path, required: bool = True) -> list[Sample]:
        """Every training sample of ``root``, with or without a target; none is an error
        with ``required``."""
        samples = self.list_samples(root, "train") if Path(root).is_dir() else []
        listed = {p for p, _ in samples}
        if Path(root).is_dir():
            samples += [(p, None) for p in self.list_unlabeled(root) if p not in listed]
        if required and not samples:
            raise DataNotFoundError(self.how_to_provide(root))
        return samples

    def strata(self, root: Path, samples: Sequence[Sample]) -> list[int]:
        """A stratum per sample (its class, an image type) for stratified splits; default: one."""
        return [0] * len(samples)

    def class_list(self, root: Path) -> tuple[str, ...]:
        """The classes a classifier of these samples tells apart (default: the strata)."""
        return self.strata_names

    def names(self, root: Path) -> tuple[str, ...]:
        """Readable names of :meth:`class_list`."""
        return self.class_list(root)

    def relabel(self, root: Path, samples: list[Sample]) -> list[Sample]:
        """Training labels to use instead of the listed ones (e.g. noisy labels)."""
        return samples

    def read(self, root: Path, path: str) -> np.ndarray:
        """The image at ``root/path`` as ``uint8`` ``(H, W, channels)``."""
        return read_image(Path(root) / path, self.channels)

    def is_root(self, root: Path) -> bool:
        """Whether ``root`` holds this dataset (at least one training sample)."""
        return bool(self.training_samples(root, required=False))

    def prepare(self, root: Path) -> None:
        """Make the data at ``root`` when the source makes its own (a simulation)."""

    def generated(self, variant: str | None) -> tuple[Source, Path]:
        """``source: generate``: this source with the parameters of ``variant``
        (``"n_train=1000,seed=0"``) and the folder it wrote its data to."""
        raise DataNotFoundError(
            f"{self.name} does not make its data: give its source as 'download' or a path"
        )

    def bad_samples(self, root: Path) -> dict[str, str]:
        """``{id: problem}`` of the samples known to be unusable before reading."""
        return {}

    def columns(self, root: Path, paths: list[str]) -> dict[str, np.ndarray]:
        """Per-sample values the embeddings carry beside the labels (e.g. an SNR)."""
        return {}

    def how_to_provide(self, root: Path, reason: str = "") -> str:
        """The one-line message for data that is not at ``root``."""
        ways = [
            f"point --data.root to a copy (a folder with {self.layout})",
            "get the team's copy with dvc pull (docs/pipelines.md)",
        ]
        if self.archives:
            ways.append(
                "download the official archive with --data.download true (needs internet; "
                f"--data.variant {'|'.join(self.archives)})"
            )
        return (
            f"{self.name} not found at {Path(root).resolve()}{': ' + reason if reason else ''}. "
            f"Provide it: {'; or '.join(ways)}."
        )


class ImageFolder(Source):
    """Classification images in one folder per class: ``root/<train_dir>/<class>/*``,
    ``root/unlabeled/**/*`` (no class) and ``root/<test_dir>/<class>/*`` (may be absent).

    Args:
        classes: Class folder names in label order (default: the sorted folders).
        train_dir: Folder of the training images.
        test_dir: Folder of the test images.
        **kwargs: :class:`Source` arguments (``class_names``, ``channels``, ``mean``, ``std``).
    """

    classes: tuple[str, ...] = ()

    def __init__(
        self,
        classes: Sequence[str] | None = None,
        train_dir: str | None = None,
        test_dir: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if classes is not None:
            self.classes = tuple(classes)
        self.train_dir = train_dir or self.train_dir
        self.test_dir = test_dir or self.test_dir
        self.layout = (
            f"{self.train_dir}/<class>/<image>, optionally {self.unlabeled_dir}/**/<image> "
            f"and {self.test_dir}/<class>/<image>"
        )

    def class_list(self, root: Path) -> tuple[str, ...]:
        if self.classes:
            return self.classes
        folder = Path(root) / self.train_dir
        found = sorted(e.name for e in os.scandir(folder) if e.is_dir()) if folder.is_dir() else []
        if self.unlabeled_dir in found:
            raise BadDataError(
                f"{folder / self.unlabeled_dir} would be a class: images without a class go "
                f"in {Path(root) / self.unlabeled_dir}/ (at the data root, beside "
                f"{self.train_dir}/)"
            )
        return tuple(found)

    def names(self, root: Path) -> tuple[str, ...]:
        return self.class_names or self.class_list(root)

    def strata(self, root: Path, samples: Sequence[Sample]) -> list[int]:
        return [label for _, label in samples]

    def list_samples(self, root: Path, split: str) -> list[Sample]:
        """``(relative path, label)`` of ``split``, sorted by class then file name."""
        folder = self.split_dir(split)
        samples = []
        for label, name in enumerate(self.class_list(root)):
            class_dir = Path(root) / folder / name
            if not class_dir.is_dir():
                continue
            files = sorted(
                e.name for e in os.scandir(class_dir) if e.name.lower().endswith(self.extensions)
            )
            samples += [(f"{folder}/{name}/{f}", label) for f in files]
        return samples


class ArrayData:
    """The samples of an :class:`ArraySource` once opened: ids, targets and ``read(i)``. A
    subclass gives :meth:`get` and :meth:`problems` (a target outside the classes is one).

    Args:
        ids: One stable id per sample (``file:row``).
        targets: Class of every sample (``-1``: none).
    """

    error: type[BadDataError] = BadDataError

    def __init__(self, ids: Sequence[str], targets: Sequence[int] | np.ndarray) -> None:
        self.ids = list(ids)
        self.targets = np.asarray(targets, dtype=np.int64)
        self._index = {sample_id: i for i, sample_id in enumerate(self.ids)}
        self._bad: dict[int, str] | None = None
        self.splits: list[str | None] = []  # set by the source
        self.declared_classes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, sample_id: str) -> int:
        return self._index[sample_id]

    def get(self, i: int) -> np.ndarray:
        """Sample ``i`` as it is stored."""
        raise NotImplementedError

    def problems(self) -> dict[int, str]:
        """``{position: problem}`` of every unusable sample (checked on all at once)."""
        return {}

    def usable(self, i: int) -> bool:
        if self._bad is None:
            self._bad = self.problems()
            if self.declared_classes:
                n, names = len(self.declared_classes), list(self.declared_classes)
                for j in np.flatnonzero((self.targets < -1) | (self.targets >= n)).tolist():
                    self._bad.setdefault(j, f"label {self.targets[j]} outside the classes {names}")
        return i not in self._bad

    def read(self, i: int) -> np.ndarray:
        """Sample ``i``; a bad one raises :attr:`error` naming it."""
        if not self.usable(i):
            raise self.error(f"{self.ids[i]}: {self._bad[i]}")
        return self.get(i)

    def bad_samples(self) -> dict[str, str]:
        """``{id: problem}`` of every unusable sample."""
        self.usable(0)
        return {self.ids[i]: problem for i, problem in sorted(self._bad.items())}


class ArraySource(Source):
    """A source whose samples are rows of arrays (jets, series, generated strain), named
    by id (``top.npz:17``) in the opened data (:meth:`open`, once per root) with their
    split (:meth:`split_of`); target ``-1`` is unlabeled."""

    extensions = ()  # nothing in an unlabeled/ folder is a sample
    strata_names = ()

    def __init__(self, class_names: Sequence[str] | None = None, channels: int | None = None):
        super().__init__(class_names, channels, mean=(0.0,), std=(1.0,))
        self._opened: dict[Path, ArrayData] = {}

    def exists(self, root: Path) -> bool:
        """Whether ``root`` holds the data."""
        raise NotImplementedError

    def open(self, root: Path) -> ArrayData:
        raise NotImplementedError

    def split_of(self, data: ArrayData) -> list[str | None]:
        """``"train"``, ``"test"`` or ``None`` (listed in neither) for every sample."""
        raise NotImplementedError

    def load(self, root: Path) -> ArrayData:
        """The opened data of ``root`` (opened once per root)."""
        key = Path(root).resolve()
        if key not in self._opened:
            data = self.open(Path(root))
            data.declared_classes = tuple(self.class_names)
            data.splits = self.split_of(data)
            self._opened[key] = data
        return self._opened[key]

    def list_samples(self, root: Path, split: str) -> list[Sample]:
        self.split_dir(split)  # refuses anything but train/test
        if not self.exists(Path(root)):
            return []
        data = self.load(root)
        return [
            (i, None if t < 0 else int(t))
            for i, t, where in zip(data.ids, data.targets.tolist(), data.splits, strict=True)
            if where == split
        ]

    def strata(self, root: Path, samples: Sequence[Sample]) -> list[int]:
        return [int(t) for _, t in samples]

    def class_list(self, root: Path) -> tuple[str, ...]:
        return tuple(self.class_names)

    def read(self, root: Path, path: str) -> np.ndarray:
        data = self.load(root)
        return data.read(data.index(path))

    def bad_samples(self, root: Path) -> dict[str, str]:
        return self.load(root).bad_samples()
