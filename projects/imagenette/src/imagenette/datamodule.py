"""Imagenette datamodule: multi-view training batches, kNN evaluation batches.

- ``train_dataloader``: ``(views, labels, indices)`` from the train split, each image
  through ``train_transform`` (default: two SimCLR views at ``image_size``).
- ``val_dataloader`` / ``test_dataloader``: ``[bank, queries]`` for the online kNN probe:
  the train split (memory bank) and the official val split (queries), both with a
  deterministic resize + center crop. Imagenette's val is this project's *test set*:
  nothing is tuned on it, and reported numbers are final-epoch numbers.
- ``predict_dataloader``: ``[train, val]`` for writing embeddings.

Images stay ``uint8`` until they reach the device (see :mod:`ssl_core.data`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from torch.utils.data import DataLoader

from imagenette.dataset import WNIDS, Imagenette
from imagenette.download import BASE_URL, ensure_imagenette
from ssl_core.data import ViewsDataModule
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
        train_transform: Views of a training image (default: :class:`SimCLRTransform`).
        batch_size: Training batch size (per device).
        eval_batch_size: Batch size of evaluation/prediction loaders.
        num_workers: Dataloader worker processes.
        label_noise: fast.ai noisy labels percentage (0, 1, 5, 25, 50) for training labels.
        exclude_classes: Classes (wnids or names) left out of the training split.
        split: Label split (name under ``projects/imagenette/splits/`` such as
            ``frac0.10-seed0``, or a path). With a split, only its labeled images carry
            labels: they form the kNN memory bank (and the labeled set of
            semi-supervised methods); self-supervised training still sees every image.
        base_url: Download mirror.
    """

    num_classes = len(WNIDS)

    def __init__(
        self,
        root: str | None = None,
        download: bool = True,
        variant: Literal["160", "320", "full"] = "160",
        image_size: int = 128,
        train_transform: MultiViewTransform | None = None,
        batch_size: int = 256,
        eval_batch_size: int = 512,
        num_workers: int = 8,
        label_noise: int = 0,
        exclude_classes: list[str] | None = None,
        split: str | None = None,
        base_url: str = BASE_URL,
    ) -> None:
        super().__init__(mean=IMAGENET_MEAN, std=IMAGENET_STD)
        suffix = "" if variant == "full" else f"-{variant}"
        self.root = Path(root) if root else PROJECT_DIR / "data" / f"imagenette2{suffix}"
        self.download = download
        self.variant = variant
        self.image_size = image_size
        self.train_transform = train_transform or SimCLRTransform(size=image_size)
        self.eval_transform = EvalTransform(size=image_size)
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.num_workers = num_workers
        self.label_noise = label_noise
        self.exclude_classes = list(exclude_classes or [])
        self.split = split
        self.base_url = base_url
        self.label_split: LabelSplit | None = None

    def prepare_data(self) -> None:
        ensure_imagenette(self.root, self.download, self.variant, self.base_url)

    def setup(self, stage: str | None = None) -> None:
        ensure_imagenette(self.root, download=False)
        self.train_set = Imagenette(
            self.root, "train", self.train_transform, self.label_noise, self.exclude_classes
        )
        self.bank_set = Imagenette(self.root, "train", self.eval_transform, 0, self.exclude_classes)
        if self.split:
            self.label_split = load_split(self.split, self.train_set)
            self.bank_set = Imagenette(
                self.root, "train", self.eval_transform, samples=self.label_split.labeled
            )
        self.val_set = Imagenette(self.root, "val", self.eval_transform)

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

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, self.batch_size, train=True)

    def val_dataloader(self) -> list[DataLoader]:
        return [self._loader(self.bank_set, self.eval_batch_size), self._loader(self.val_set, self.eval_batch_size)]

    def test_dataloader(self) -> list[DataLoader]:
        return self.val_dataloader()

    def predict_dataloader(self) -> list[DataLoader]:
        return self.val_dataloader()


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
