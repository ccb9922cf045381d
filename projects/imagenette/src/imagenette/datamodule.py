"""Imagenette datamodule: multi-view training batches, kNN evaluation batches.

- ``train_dataloader``: what a method trains on, chosen by ``train_on``:

  - ``"all"`` (self-supervised: SimCLR, BYOL, ...): ``(views, labels, indices)`` of
    every training image through ``train_transform`` (default: two SimCLR views).
    The labels are there but self-supervised methods do not read them.
  - ``"labeled"`` (Supervised, SupCon, fine-tuning, linear probe): ``(views, labels,
    indices)`` of the split's labeled images only, with the split's labels (which may
    be pseudo-labels), through ``labeled_transform``. Without a split: every training
    image with its label (the fully supervised setting).
  - ``"semi"`` (FixMatch, Mean Teacher, Pseudo-Label, SemiSupCon): a dict
    ``{"labeled": (views, labels, indices), "unlabeled": (views, -1, indices)}`` per
    step, from Lightning's ``CombinedLoader`` in ``max_size_cycle`` mode: the shorter
    loader (usually the labeled one) restarts until the longer one (usually the
    unlabeled pool) is exhausted, so an epoch is one pass over the larger of the two.
    The unlabeled batch is ``unlabeled_ratio`` (FixMatch's mu) times the labeled one.
    Unlabeled images carry the label ``-1``: their true labels never reach a method.

  Views are lists of ``uint8`` tensors, one per view of the ``MultiViewTransform``.
  Only training images are ever used for training: val is this project's test set.
- ``val_dataloader`` / ``test_dataloader``: ``[bank, queries]`` for the online kNN probe:
  the train split (memory bank) and the official val split (queries), both with a
  deterministic resize + center crop. Imagenette's val is this project's *test set*:
  nothing is tuned on it, and reported numbers are final-epoch numbers.
- ``predict_dataloader``: ``[train, val]`` (every training image, clean labels, and the
  val split, deterministic view) for writing embeddings, plus ``val_shifted`` (val
  through ``shift``) when ``shift`` is set; names in ``predict_split_names``.

Images stay ``uint8`` until they reach the device (see :mod:`ssl_core.data`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from lightning.pytorch.utilities import CombinedLoader
from torch.utils.data import DataLoader

from imagenette.dataset import CLASS_NAMES, WNIDS, Imagenette
from imagenette.download import BASE_URL, ensure_imagenette
from ssl_core.data import ViewsDataModule
from ssl_core.evaluate.shift import ShiftTransform, parse_shift
from ssl_core.splits import LabelSplit
from ssl_core.transforms import EvalTransform, MultiViewTransform, SimCLRTransform

PROJECT_DIR = Path(__file__).resolve().parents[2]
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImagenetteDataModule(ViewsDataModule):
    """Imagenette for ssl-core methods.

    Args:
        root: Folder with ``train/`` and ``val/`` (default:
            ``projects/imagenette/data/imagenette2-<variant>``).
        download: Download the official archive when ``root`` holds no data.
        variant: Official archive to download: ``160``, ``320`` (px, shorter side) or ``full``.
        image_size: Side of training views and evaluation crops.
        train_on: Training data: ``all`` images (self-supervised), the split's
            ``labeled`` images, or ``semi``: labeled and unlabeled batches together (see
            the module docstring). ``semi`` needs a ``split`` with unlabeled images.
        train_transform: Views of a training image in ``train_on="all"`` (default:
            :class:`SimCLRTransform`, two views).
        labeled_transform: Views of a labeled image (``labeled`` and ``semi``; default:
            ``train_transform``), e.g. one weak view for a classifier
            (:class:`~ssl_core.transforms.WeakStrongTransform`).
        unlabeled_transform: Views of an unlabeled image (``semi``; default:
            ``train_transform``), e.g. weak + strong for FixMatch.
        unlabeled_ratio: Unlabeled images per labeled image in a ``semi`` step (mu of
            FixMatch: the unlabeled batch is ``unlabeled_ratio * batch_size``).
        batch_size: Training batch size (per device); in ``semi`` the labeled batch.
        eval_batch_size: Batch size of evaluation/prediction loaders.
        num_workers: Dataloader worker processes.
        label_noise: fast.ai noisy labels percentage (0, 1, 5, 25, 50) for training labels.
        exclude_classes: Classes (wnids or names) left out of the training split.
        split: Label split (name under ``projects/imagenette/splits/`` such as
            ``frac0.10-seed0``, or a path). With a split, only its labeled images carry
            labels: they form the kNN memory bank (and the labeled set of
            semi-supervised methods); self-supervised training still sees every image.
        base_url: Download mirror.
        shift: Domain shift for prediction (``noise:0.1``, ``hue:0.1``, ``blur:2``; see
            :mod:`ssl_core.evaluate.shift`): adds a shifted copy of val to the predict
            loaders.
        limit_per_class: Use only the first N images of each class (train and val; the
            label split is checked against the full list): smoke runs of a pipeline.
    """

    num_classes = len(WNIDS)
    class_names = CLASS_NAMES

    def __init__(
        self,
        root: str | None = None,
        download: bool = True,
        variant: Literal["160", "320", "full"] = "160",
        image_size: int = 128,
        train_on: Literal["all", "labeled", "semi"] = "all",
        train_transform: MultiViewTransform | None = None,
        labeled_transform: MultiViewTransform | None = None,
        unlabeled_transform: MultiViewTransform | None = None,
        unlabeled_ratio: int = 1,
        batch_size: int = 256,
        eval_batch_size: int = 512,
        num_workers: int = 8,
        label_noise: int = 0,
        exclude_classes: list[str] | None = None,
        split: str | None = None,
        base_url: str = BASE_URL,
        shift: str | None = None,
        limit_per_class: int | None = None,
    ) -> None:
        super().__init__(mean=IMAGENET_MEAN, std=IMAGENET_STD)
        suffix = "" if variant == "full" else f"-{variant}"
        self.root = Path(root) if root else PROJECT_DIR / "data" / f"imagenette2{suffix}"
        self.download = download
        self.variant = variant
        self.image_size = image_size
        if train_on not in ("all", "labeled", "semi"):
            raise ValueError(f"train_on must be 'all', 'labeled' or 'semi', not {train_on!r}")
        if train_on == "semi" and not split:
            raise ValueError("train_on='semi' needs a label split (--data.split frac0.10-seed0)")
        if unlabeled_ratio < 1:
            raise ValueError(f"unlabeled_ratio must be >= 1, not {unlabeled_ratio}")
        self.train_on = train_on
        self.train_transform = train_transform or SimCLRTransform(size=image_size)
        self.labeled_transform = labeled_transform or self.train_transform
        self.unlabeled_transform = unlabeled_transform or self.train_transform
        self.unlabeled_ratio = unlabeled_ratio
        self.eval_transform = EvalTransform(size=image_size)
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.num_workers = num_workers
        self.label_noise = label_noise
        self.exclude_classes = list(exclude_classes or [])
        self.split = split
        self.base_url = base_url
        self.label_split: LabelSplit | None = None
        self.shift = shift
        self.limit_per_class = limit_per_class
        if shift:
            parse_shift(shift)  # fail at config time, not after the model has loaded

    def _dataset(self, split: str, transform, *args, **kwargs) -> Imagenette:
        return Imagenette(
            self.root, split, transform, *args, limit_per_class=self.limit_per_class, **kwargs
        )

    def prepare_data(self) -> None:
        ensure_imagenette(self.root, self.download, self.variant, self.base_url)

    def setup(self, stage: str | None = None) -> None:
        ensure_imagenette(self.root, download=False)
        self.train_set = self._dataset(
            "train", self.train_transform, self.label_noise, self.exclude_classes
        )
        self.bank_set = self._dataset("train", self.eval_transform, 0, self.exclude_classes)
        if self.split:
            self.label_split = load_split(self.split, self.train_set)
            self.bank_set = self._dataset(
                "train",
                self.eval_transform,
                samples=self.label_split.labeled,
                exclude_classes=self.exclude_classes,
            )
        self.val_set = self._dataset("val", self.eval_transform)
        self.labeled_set = self.unlabeled_set = None
        if self.train_on in ("labeled", "semi"):
            self.labeled_set = self._dataset(
                "train",
                self.labeled_transform,
                label_noise=0 if self.label_split else self.label_noise,
                exclude_classes=self.exclude_classes,
                samples=self.label_split.labeled if self.label_split else None,
            )
            self.train_set = self.labeled_set
        if self.train_on == "semi":
            excluded = {
                WNIDS[CLASS_NAMES.index(c)] if c in CLASS_NAMES else c for c in self.exclude_classes
            }
            # Label -1: the unlabeled images' true labels never reach the method.
            pool = [
                (p, -1) for p in self.label_split.unlabeled if Path(p).parent.name not in excluded
            ]
            if not pool:
                raise ValueError(f"Split {self.split} has no unlabeled images for train_on='semi'")
            self.unlabeled_set = self._dataset("train", self.unlabeled_transform, samples=pool)

    def split_path(self) -> Path:
        return resolve_split_path(self.split)

    def _loader(self, dataset, batch_size: int, train: bool = False) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=min(batch_size, len(dataset)) if train else batch_size,
            shuffle=train,
            drop_last=train,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            pin_memory=True,
        )

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
        return [
            self._loader(self.bank_set, self.eval_batch_size),
            self._loader(self.val_set, self.eval_batch_size),
        ]

    def test_dataloader(self) -> list[DataLoader]:
        return self.val_dataloader()

    @property
    def predict_split_names(self) -> list[str]:
        return ["train", "val"] + (["val_shifted"] if self.shift else [])

    def predict_dataloader(self) -> list[DataLoader]:
        sets = [
            self._dataset("train", self.eval_transform, 0, self.exclude_classes),
            self.val_set,
        ]
        if self.shift:
            sets.append(self._dataset("val", ShiftTransform(self.eval_transform, self.shift)))
        return [self._loader(s, self.eval_batch_size) for s in sets]


def resolve_split_path(split: str) -> Path:
    """A split by name (``frac0.10-seed0``) under ``projects/imagenette/splits/``, or a path."""
    path = Path(split)
    if path.suffix == ".json" or path.exists():
        return path
    return PROJECT_DIR / "splits" / f"{split}.json"


def load_split(split: str, train_set: Imagenette) -> LabelSplit:
    """Load a split and check that it was made from ``train_set``'s file list."""
    path = resolve_split_path(split)
    if not path.is_file():
        available = sorted(p.stem for p in (PROJECT_DIR / "splits").glob("*.json"))
        raise FileNotFoundError(
            f"No label split {split!r} ({path}). Available: {available or 'none'}; make them "
            "with `dvc repro` (stage imagenette-splits) or `python -m imagenette.splits`."
        )
    label_split = LabelSplit.load(path)
    full = Imagenette(train_set.root, "train")  # the whole training list, unfiltered
    label_split.check(full.paths, name=path.stem)
    return label_split
