"""The data side of segmentation: a project's *source*, the dataset, the datamodule.

A project says what its files are (:class:`SegmentationSource`: how to list images and
their masks, how to read them, a stratum per image for stratified splits); everything
else is generic and here, sibling of :class:`ssl_core.data.ClassificationDataModule`:

- splits as in classification (:mod:`ssl_core.splits`, Oliver et al. 2018): a fixed,
  seeded validation split carved from the training images, and label fractions x seeds
  of the rest, made on first use (``resolve_split``), stratified by the source's
  :meth:`~SegmentationSource.strata` (e.g. an image type) where classification uses the
  class. The unlabeled pool needs no masks.
- batches (the contract every segmentation method reads):

  - labeled: ``{"image": uint8 (B, C, h, w), "mask": int64 (B, h, w), "index": (B,)}``,
    random crops, mask 255 (``ignore_index``) on padding;
  - unlabeled: ``{"views": [weak, strong_1, ...] uint8 (B, C, h, w), "ignore": uint8
    (B, h, w) (255 on padding, else 0), "index": (B,)}``, views pixel-aligned;
  - ``train_on="semi"``: ``{"labeled": ..., "unlabeled": ...}`` per step (Lightning's
    ``CombinedLoader``, ``max_size_cycle``: the shorter loader restarts);
  - validation, test, predict: whole images, batch size 1: ``{"image": uint8
    (1, C, H, W), "mask": int64 (1, H, W) (absent without masks), "index": (1,)}``; the
    loader's dataset has ``ids`` (one per sample) to name written masks ``<id>.png``.

Images stay ``uint8`` until they reach the device; ``on_after_batch_transfer``
normalizes ``image``/``views`` only (:func:`ssl_core.data.normalize_batch`): masks and
``ignore`` pass untouched. Training loaders draw a seed per sample
(:class:`ssl_core.data.SeededSampler`), so every dataloader worker makes its own views.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import torch
from lightning.pytorch import LightningDataModule
from lightning.pytorch.utilities import CombinedLoader
from torch.utils.data import DataLoader, Dataset

from ssl_core.data import normalize_batch
from ssl_core.data.datamodule import make_loader
from ssl_core.data.datasets import BAD_FILES
from ssl_core.data.download import ensure_data
from ssl_core.data.images import BadImageError
from ssl_core.data.sources import DataNotFoundError, ImageFolder, Source
from ssl_core.segmentation.transforms import (
    IGNORE_INDEX,
    SegEvalTransform,
    SegTrainTransform,
    SegWeakStrongTransform,
)
from ssl_core.splits import LabelSplit, make_validation, resolve_split
from ssl_core.transforms import seed_transform

SegSample = tuple[str, str | None]  # (image path relative to the root, mask reference)


class MaskMismatchError(ValueError):
    """A mask does not have its image's size."""


def held_out(
    paths: Sequence[str], strata: Sequence[int], fraction: float, seed: int = 0
) -> list[str]:
    """A seeded ``fraction`` of ``paths``, stratified by ``strata`` (sorted): e.g. the
    fixed test split of a dataset that ships none."""
    return make_validation(list(paths), list(strata), fraction, seed)


class SegmentationSource(Source):
    """Images and masks of a segmentation dataset: what a project implements.

    The default layout (what ``new-project --task segmentation`` writes as its example)::

        root/train/images/<id>.png   root/train/masks/<id>.png   (mask optional)
        root/test/images/<id>.png    root/test/masks/<id>.png

    Masks are single-channel images of class ids (0 = background). With two classes
    (binary: background + foreground) any non-zero value is foreground, so 0/255 masks
    work as they are. A subclass overrides the class attributes, :meth:`list_samples` for
    another layout, :meth:`read_mask` for other masks (e.g. one file per object, whose
    union is the foreground) and :meth:`strata` to stratify the splits.

    Args:
        class_names: Names of the classes in id order (default: background, foreground).
        channels: Channels the network sees (1 grey, 3 RGB, or the files' own count).
        mean: Per-channel mean in [0, 1] units (normalization on the device).
        std: Per-channel standard deviation in [0, 1] units.
    """

    name: str = "segmentation"
    class_names: tuple[str, ...] = ("background", "foreground")
    images_dir: str = "images"
    masks_dir: str = "masks"
    mask_extension: str = ".png"
    #: Names of the values :meth:`strata` returns (e.g. image types), in index order.
    strata_names: tuple[str, ...] = ("all",)
    layout: str = "train/images/<id>.png, train/masks/<id>.png and optionally the same under test/"

    def __init__(
        self,
        class_names: Sequence[str] | None = None,
        channels: int | None = None,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> None:
        super().__init__(class_names, channels, mean, std)
        if len(self.class_names) < 2:
            raise ValueError(f"A segmentation needs >= 2 classes, not {self.class_names}")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    # ---------------------------------------------------------------- listing
    def list_samples(self, root: Path, split: str) -> list[SegSample]:
        """``(image path relative to root, mask reference or None)`` of every image of
        ``split`` (``"train"`` or ``"test"``), sorted; ``[]`` when the folder is absent."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {split!r}")
        folder = self.train_dir if split == "train" else self.test_dir
        images = Path(root) / folder / self.images_dir
        if not images.is_dir():
            return []
        samples = []
        for name in sorted(e.name for e in os.scandir(images) if e.is_file()):
            if not name.lower().endswith(self.extensions):
                continue
            mask = f"{folder}/{self.masks_dir}/{Path(name).stem}{self.mask_extension}"
            has_mask = (Path(root) / mask).is_file()
            samples.append((f"{folder}/{self.images_dir}/{name}", mask if has_mask else None))
        return samples

    def sample_id(self, path: str) -> str:
        """The id of the image at ``path``: the name of its predicted mask (``<id>.png``)."""
        return Path(path).stem

    def strata(self, root: Path, samples: Sequence[SegSample]) -> list[int]:
        """A stratum per sample (e.g. an image type) for stratified splits; default: one."""
        return [0] * len(samples)

    # ---------------------------------------------------------------- reading
    def read_mask(self, root: Path, ref: str) -> np.ndarray:
        """The mask ``ref`` as ``uint8`` ``(H, W)`` class ids (binary: 0/1)."""
        path = Path(root) / ref
        mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if mask is None:
            raise BadImageError(f"Cannot decode mask {path}")
        if mask.ndim == 3:  # a colour-saved grey mask: its channels are equal
            mask = mask[:, :, 0]
        if self.num_classes == 2:
            return (mask > 0).astype(np.uint8)
        if mask.max() >= self.num_classes and mask.max() != IGNORE_INDEX:
            raise BadImageError(
                f"Mask {path} holds class id {int(mask.max())}; {self.name} has "
                f"{self.num_classes} classes {list(self.class_names)} (255 = ignore)"
            )
        return mask.astype(np.uint8)


class SegmentationImages(ImageFolder):
    """The images of a segmentation source as a classification source, for
    self-supervised pretraining on a project's own images (SimCLR on DSB2018's images,
    whose backbone then becomes a U-Net encoder: ``--model.encoder_weights``).

    Masks are never read. The label of an image is its stratum (the source's
    :meth:`~SegmentationSource.strata`, e.g. the image type), so the classification
    datamodule's validation split is stratified as the segmentation splits are and the
    online kNN reads something (how well the embedding separates image types; a sanity
    check, not the goal). Only the source's training images are listed as ``train``:
    its test split stays unseen.

    Args:
        source: The segmentation source (e.g. ``dsb2018.DSB2018``).
    """

    def __init__(self, source: SegmentationSource) -> None:
        self.source = source
        super().__init__(
            classes=source.strata_names,
            channels=source.channels,
            mean=source.mean,
            std=source.std,
        )
        self.name = f"{source.name}-images"
        self.default_root = source.default_root
        self.archives = source.archives
        self.layout = source.layout
        self.splits_dir = None  # the segmentation project's splits hold masks' images

    def list_samples(self, root: Path, split: str) -> list[tuple[str, int]]:
        samples = self.source.list_samples(root, split)
        strata = self.source.strata(root, samples) if samples else []
        return [(path, int(s)) for (path, _), s in zip(samples, strata, strict=True)]

    def read(self, root: Path, path: str) -> np.ndarray:
        return self.source.read(root, path)

    def is_root(self, root: Path) -> bool:
        return self.source.is_root(root)


class SegmentationDataset(Dataset):
    """Images and (optionally) masks listed as ``(path, mask reference)`` under a root.

    Args:
        root: The data root the paths are relative to.
        samples: ``(image path, mask reference or None)`` pairs.
        read: ``read(root, path)`` -> ``uint8`` ``(H, W, C)`` (a source's ``read``).
        read_mask: ``read_mask(root, ref)`` -> ``(H, W)`` class ids.
        transform: ``transform(image, mask)`` -> the sample's fields (``mask`` is
            ``None`` where not read): :mod:`ssl_core.segmentation.transforms`.
        ids: One id per sample (default: the image file's stem).
        with_masks: Read the masks (``False`` for the unlabeled pool: never read).
        require_masks: Refuse a sample without a mask (labeled and validation sets).
        on_bad_file: An image or mask that cannot be read (or a mask not of its image's
            size): ``"error"`` ends the run with one message naming it; ``"skip"``
            leaves the sample out of its batch and names it in the batch's
            ``bad_files`` (counted in the log as ``train/skipped_files``), as the
            classification datasets do (:class:`ssl_core.data.ImageDataset`).
    """

    def __init__(
        self,
        root: str | Path,
        samples: Sequence[SegSample],
        read: Callable[[Path, str], np.ndarray],
        read_mask: Callable[[Path, str], np.ndarray],
        transform: Callable[..., dict[str, Any]] | None = None,
        ids: Sequence[str] | None = None,
        with_masks: bool = True,
        require_masks: bool = False,
        on_bad_file: str = "error",
    ) -> None:
        if on_bad_file not in ("error", "skip"):
            raise ValueError(f"on_bad_file must be 'error' or 'skip', not {on_bad_file!r}")
        self.on_bad_file = on_bad_file
        self.root = Path(root)
        self.samples = list(samples)
        self.read = read
        self.read_mask = read_mask
        self.transform = transform or SegEvalTransform()
        self.ids = list(ids) if ids is not None else [Path(p).stem for p, _ in self.samples]
        if len(self.ids) != len(self.samples):
            raise ValueError(f"{len(self.ids)} ids for {len(self.samples)} samples")
        self.with_masks = with_masks
        if require_masks:
            missing = [p for p, m in self.samples if m is None]
            if missing:
                raise DataNotFoundError(
                    f"{len(missing)} images of a set that needs masks have none in "
                    f"{self.root}, e.g. {missing[:3]}"
                )

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def _read(self, path: str, ref: str | None) -> tuple[np.ndarray, np.ndarray | None]:
        image = self.read(self.root, path)
        mask = None
        if self.with_masks and ref is not None:
            mask = self.read_mask(self.root, ref)
            if mask.shape[:2] != image.shape[:2]:
                raise MaskMismatchError(
                    f"Mask {ref} is {mask.shape[1]}x{mask.shape[0]} px (WxH) but its image "
                    f"{path} is {image.shape[1]}x{image.shape[0]} px: fix or remove the pair"
                )
        return image, mask

    def __getitem__(self, item: int | tuple[int, int]) -> dict[str, Any]:
        index, seed = item if isinstance(item, tuple) else (item, None)
        if seed is not None:
            seed_transform(self.transform, seed)
        path, ref = self.samples[index]
        try:
            image, mask = self._read(path, ref)
        except (BadImageError, MaskMismatchError) as err:
            if self.on_bad_file == "skip":
                return {BAD_FILES: str(self.root / path)}
            raise type(err)(
                f"{err}. Remove or replace the file, or leave such samples out with "
                "--data.on_bad_file skip (they are counted in the log)."
            ) from None
        out = self.transform(image, mask)
        out["index"] = index
        return out


class SegmentationDataModule(LightningDataModule):
    """Any segmentation project's data for ssl-core's segmentation methods (see the
    module docstring for the batches).

    Args:
        source: The dataset (how to list and read its images and masks).
        root: The data root (default: the source's ``default_root``).
        download: Download the source's archive when ``root`` holds no data.
        variant: Which of the source's archives (default: its first).
        crop_size: Side of the random training crops (whole images are evaluated).
        train_on: The split's ``labeled`` images (supervised), or ``semi``: labeled and
            unlabeled batches together (needs a ``split``).
        labeled_transform: Labeled samples (default :class:`SegTrainTransform`).
        unlabeled_transform: Unlabeled samples (default :class:`SegWeakStrongTransform`,
            a weak and ``strong_views`` strong views).
        strong_views: Strong views of the default unlabeled transform.
        unlabeled_ratio: Unlabeled images per labeled image in a ``semi`` step.
        batch_size: Training batch size (per device); in ``semi`` the labeled batch.
        num_workers: Dataloader worker processes.
        split: Label split: a name (``frac0.10-seed0``: the project's file, or made on
            first use) or a path. Without one every non-validation image is labeled.
        val_fraction: Share of the training images in the validation split.
        val_seed: Seed of the validation split.
        limit_images: Use only the first N images of each set (smoke runs; splits are
            made from the full list).
        on_bad_file: An unreadable image or mask (or a mask not of its image's size):
            ``error`` ends the run naming it; ``skip`` leaves it out and counts it in the
            log (``train/skipped_files``); skipped test images get no predicted mask.
    """

    ignore_index: int = IGNORE_INDEX

    def __init__(
        self,
        source: SegmentationSource | None = None,
        root: str | None = None,
        download: bool = False,
        variant: str | None = None,
        crop_size: int = 256,
        train_on: Literal["labeled", "semi"] = "labeled",
        labeled_transform: Any | None = None,
        unlabeled_transform: Any | None = None,
        strong_views: int = 2,
        unlabeled_ratio: int = 1,
        batch_size: int = 8,
        num_workers: int = 2,
        split: str | None = None,
        val_fraction: float = 0.1,
        val_seed: int = 0,
        limit_images: int | None = None,
        on_bad_file: Literal["error", "skip"] = "error",
    ) -> None:
        super().__init__()
        if on_bad_file not in ("error", "skip"):
            raise ValueError(f"on_bad_file must be 'error' or 'skip', not {on_bad_file!r}")
        self.on_bad_file = on_bad_file
        self.source = source if source is not None else SegmentationSource()
        if variant is not None and variant not in self.source.archives:
            raise ValueError(
                f"Unknown variant {variant!r}; choose from {list(self.source.archives)}"
            )
        archives = self.source.archives
        self.archive = (
            (archives.get(variant) or next(iter(archives.values()))) if archives else None
        )
        if root:
            self.root = Path(root).expanduser()
        elif self.source.default_root is not None:
            self.root = Path(self.source.default_root) / (
                self.archive.folder if self.archive else ""
            )
        else:
            raise ValueError(f"{self.source.name} needs a data root: --data.root PATH")
        if train_on not in ("labeled", "semi"):
            raise ValueError(f"train_on must be 'labeled' or 'semi', not {train_on!r}")
        if train_on == "semi" and not split:
            raise ValueError("train_on='semi' needs a label split (--data.split frac0.10-seed0)")
        if unlabeled_ratio < 1:
            raise ValueError(f"unlabeled_ratio must be >= 1, not {unlabeled_ratio}")
        self.download = download
        self.crop_size = crop_size
        self.train_on = train_on
        channels = self.source.channels
        self.labeled_transform = labeled_transform or SegTrainTransform(crop_size, channels)
        self.unlabeled_transform = unlabeled_transform or SegWeakStrongTransform(
            crop_size, channels, strong_views=strong_views
        )
        self.eval_transform = SegEvalTransform()
        self.unlabeled_ratio = unlabeled_ratio
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.split = split
        self.val_fraction = val_fraction
        self.val_seed = val_seed
        self.limit_images = limit_images
        self.mean = torch.tensor(self.source.mean, dtype=torch.float32)
        self.std = torch.tensor(self.source.std, dtype=torch.float32)
        self.label_split: LabelSplit | None = None

    # ----------------------------------------------------------------- facts
    @property
    def class_names(self) -> tuple[str, ...]:
        return self.source.class_names

    @property
    def num_classes(self) -> int:
        return self.source.num_classes

    @property
    def in_channels(self) -> int:
        """Channels of the images (what the network's ``in_channels`` must be)."""
        return self.source.channels

    @property
    def predict_split_names(self) -> list[str]:
        return ["test"]

    # ------------------------------------------------------------------ setup
    def prepare_data(self) -> None:
        ensure_data(self.source, self.root, self.download, self.archive)

    def _limit(self, samples: list[SegSample], factor: int = 1) -> list[SegSample]:
        return samples[: self.limit_images * factor] if self.limit_images else samples

    def _dataset(self, samples: list[SegSample], transform, **kwargs) -> SegmentationDataset:
        return SegmentationDataset(
            self.root,
            samples,
            self.source.read,
            self.source.read_mask,
            transform,
            ids=[self.source.sample_id(p) for p, _ in samples],
            on_bad_file=self.on_bad_file,
            **kwargs,
        )

    def setup(self, stage: str | None = None) -> None:
        listing = self.source.training_samples(self.root)  # one scan, a clear error if none
        paths = [p for p, _ in listing]
        mask_of = dict(listing)
        strata = self.source.strata(self.root, listing)
        if self.split:
            self.label_split = resolve_split(
                self.split,
                self.source.name,
                paths,
                strata,
                self.source.splits_dir,
                self.val_fraction,
                self.val_seed,
            )
            validation = self.label_split.validation
            labeled = [p for p, _ in self.label_split.labeled]
            unlabeled = self.label_split.unlabeled
        else:
            validation = make_validation(paths, strata, self.val_fraction, self.val_seed)
            held = set(validation)
            labeled, unlabeled = [p for p in paths if p not in held], []
        self.labeled_samples = self._limit([(p, mask_of[p]) for p in labeled])
        self.unlabeled_samples = self._limit([(p, None) for p in unlabeled], self.unlabeled_ratio)
        self.val_samples = self._limit([(p, mask_of[p]) for p in validation])
        self.test_samples = self._limit(self.source.list_samples(self.root, "test"))
        self.labeled_set = self._dataset(
            self.labeled_samples, self.labeled_transform, require_masks=True
        )
        self.train_set = self.labeled_set
        self.unlabeled_set = None
        if self.train_on == "semi":
            if not self.unlabeled_samples:
                raise ValueError(f"Split {self.split} has no unlabeled images for train_on='semi'")
            self.unlabeled_set = self._dataset(
                self.unlabeled_samples, self.unlabeled_transform, with_masks=False
            )
        if stage == "fit" and not self.val_samples:
            raise ValueError(
                f"The validation split of {self.root} is empty (val_fraction={self.val_fraction})"
            )

    # ---------------------------------------------------------------- loaders
    def _loader(self, dataset: SegmentationDataset, batch_size: int, train: bool = False):
        return make_loader(dataset, batch_size, train, self.num_workers, self.trainer, self.root)

    def train_dataloader(self) -> DataLoader | CombinedLoader:
        labeled = self._loader(self.labeled_set, self.batch_size, train=True)
        if self.train_on != "semi":
            return labeled
        unlabeled = self._loader(
            self.unlabeled_set, self.batch_size * self.unlabeled_ratio, train=True
        )
        return CombinedLoader({"labeled": labeled, "unlabeled": unlabeled}, mode="max_size_cycle")

    def val_dataloader(self) -> DataLoader:
        val = self._dataset(self.val_samples, self.eval_transform, require_masks=True)
        return self._loader(val, 1)

    def test_dataloader(self) -> DataLoader:
        if not self.test_samples:
            raise DataNotFoundError(
                f"No test images in {self.root}: `train test` and the final evaluation read "
                "the project's test set"
            )
        return self._loader(
            self._dataset(self.test_samples, self.eval_transform, require_masks=True), 1
        )

    def predict_dataloader(self) -> list[DataLoader]:
        """Whole test images (with their masks where there are any), in
        ``predict_split_names`` order."""
        if not self.test_samples:
            raise DataNotFoundError(f"No test images to predict in {self.root}")
        return [self._loader(self._dataset(self.test_samples, self.eval_transform), 1)]

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        return normalize_batch(batch, self.mean, self.std)


# ------------------------------------------------------------------- fake data
def fake_nuclei(
    rng: np.random.Generator, height: int, width: int, channels: int, count: int | None = None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """A fake microscopy image: bright discs (nuclei) on a dark, noisy background.

    Returns the ``uint8`` ``(H, W, channels)`` image and one boolean ``(H, W)`` mask per
    disc (discs may overlap, as touching nuclei do), so a model learns something in a
    few steps and instance masks can be written in layouts of one file per object.
    """
    count = int(rng.integers(2, 6)) if count is None else count
    yy, xx = np.mgrid[:height, :width]
    instances = []
    for _ in range(count):
        r = rng.uniform(3, max(4, min(height, width) / 6))
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        instances.append((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r)
    foreground = np.any(instances, axis=0) if instances else np.zeros((height, width), bool)
    colour = rng.uniform(120, 230, channels)
    image = rng.normal(25, 12, (height, width, channels))
    image[foreground] += colour
    return np.clip(image, 0, 255).astype(np.uint8), instances


def make_fake_segmentation(
    root: str | Path,
    splits: dict[str, int] | None = None,
    size: int = 64,
    channels: int = 3,
    seed: int = 0,
) -> Path:
    """Write ``root/<split>/images/img_<i>.png`` and ``root/<split>/masks/img_<i>.png``
    (binary, 0/255) in :class:`SegmentationSource`'s default layout; return ``root``.

    Args:
        root: Where to write.
        splits: Images of each split folder (default ``{"train": 12, "test": 4}``).
        size: Base side; sizes vary (one in three is smaller than ``size``, to exercise
            padding of random crops).
        channels: Channels of the images.
        seed: Seed of the pixels.
    """
    from ssl_core.data.fake import write_image

    root = Path(root)
    rng = np.random.default_rng(seed)
    for split, n in (splits or {"train": 12, "test": 4}).items():
        for i in range(n):
            h, w = size + (i % 3) * 8 - 8, size + (i % 2) * 12
            image, instances = fake_nuclei(rng, h, w, channels)
            mask = (np.any(instances, axis=0) * 255).astype(np.uint8)[:, :, None]
            write_image(root / split / "images" / f"img_{i:04d}.png", image)
            write_image(root / split / "masks" / f"img_{i:04d}.png", mask)
    return root
