"""The data side of segmentation: a project's *source* and the datamodule.

A project says what its files are (:class:`SegmentationSource`: how to list images and
their masks, how to read them, a stratum per image for stratified splits); the rest is
the generic data layer (:class:`ssl_core.data.datamodule.DataModule`: splits, pools,
loaders, seeds, bad files), of which :class:`SegmentationDataModule` adds only what
differs: masks read beside their images, crops, whole-image evaluation with ids. An
image without a mask is unlabeled: it joins the unlabeled pool, never validation or the
labeled set. The same source serves self-supervised pretraining on its images as it is:
``ssl_core.data.ClassificationDataModule`` with ``source:`` this source (labels there are
its strata, for the online kNN only).

Batches (the contract every segmentation method reads):

- labeled: ``{"image": uint8 (B, C, h, w), "mask": int64 (B, h, w), "index": (B,)}``,
  random crops, mask 255 (``ignore_index``) on padding;
- unlabeled: ``{"views": [weak, strong_1, ...] uint8 (B, C, h, w), "ignore": uint8
  (B, h, w) (255 on padding, else 0), "index": (B,)}``, views pixel-aligned;
- ``train_on="semi"``: ``{"labeled": ..., "unlabeled": ...}`` per step;
- validation, test, predict: whole images, batch size 1: ``{"image": uint8 (1, C, H, W),
  "mask": int64 (1, H, W) (absent without a mask), "index": (1,)}``; the loader's dataset
  has ``ids`` (one per sample) to name written masks ``<id>.png``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from ssl_core.data.datamodule import DataModule
from ssl_core.data.datasets import SampleDataset
from ssl_core.data.images import BadImageError
from ssl_core.data.sources import DataNotFoundError, Sample, Source
from ssl_core.segmentation.transforms import (
    IGNORE_INDEX,
    SegEvalTransform,
    SegTrainTransform,
    SegWeakStrongTransform,
)

SegSample = tuple[str, str | None]  # (image path relative to the root, mask reference)


class MaskMismatchError(BadImageError):
    """A mask does not have its image's size."""


class SegmentationSource(Source):
    """Images and masks of a segmentation dataset: what a project implements.

    The default layout (what ``new-project --task segmentation`` writes as its example)::

        root/train/images/<id>.png   root/train/masks/<id>.png   (no mask: unlabeled)
        root/unlabeled/**/<image>    (more images without masks, optional)
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
    layout: str = (
        "train/images/<id>.png, train/masks/<id>.png (an image without a mask is "
        "unlabeled), optionally unlabeled/**/<image> and the same under test/"
    )

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    # ---------------------------------------------------------------- listing
    def list_samples(self, root: Path, split: str) -> list[SegSample]:
        """``(image path relative to root, mask reference or None)`` of every image of
        ``split`` (``"train"`` or ``"test"``), sorted; ``[]`` when the folder is absent."""
        folder = self.split_dir(split)
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

    def read_target(self, root: Path, ref: str, image: np.ndarray) -> np.ndarray:
        """The mask ``ref`` of ``image``, refused when its size differs from the image's."""
        mask = self.read_mask(root, ref)
        if mask.shape[:2] != image.shape[:2]:
            raise MaskMismatchError(
                f"Mask {ref} is {mask.shape[1]}x{mask.shape[0]} px (WxH) but its image is "
                f"{image.shape[1]}x{image.shape[0]} px: fix or remove the pair"
            )
        return mask


class SegmentationDataModule(DataModule):
    """Any segmentation project's data for ssl-core's segmentation methods (see the
    module docstring for the batches; :class:`~ssl_core.data.datamodule.DataModule` for
    the shared arguments).

    Args:
        source: The dataset (how to list and read its images and masks).
        crop_size: Side of the random training crops (whole images are evaluated).
        train_on: The split's ``labeled`` images (supervised), or ``semi``: labeled and
            unlabeled batches together (needs a ``split``: ``all`` labels every image with
            a mask outside validation, the images without masks are the unlabeled pool).
        labeled_transform: Labeled samples (default :class:`SegTrainTransform`).
        unlabeled_transform: Unlabeled samples (default :class:`SegWeakStrongTransform`,
            a weak and ``strong_views`` strong views).
        strong_views: Strong views of the default unlabeled transform.
        limit_images: Use only the first N images of each set (``N * unlabeled_ratio``
            unlabeled; smoke runs; splits are made from the full list).

    A test image skipped by ``on_bad_file: skip`` gets no predicted mask.
    """

    ignore_index: int = IGNORE_INDEX
    train_modes = ("labeled", "semi")
    target_name = "mask"

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
        source = source if source is not None else SegmentationSource()
        if source.num_classes < 2:
            raise ValueError(f"A segmentation needs >= 2 classes, not {source.class_names}")
        super().__init__(
            source, root, download, variant, train_on, split, val_fraction, val_seed,
            unlabeled_ratio, batch_size, num_workers, on_bad_file,
        )  # fmt: skip
        channels = source.channels
        self.crop_size, self.limit_images = crop_size, limit_images
        self.labeled_transform = labeled_transform or SegTrainTransform(crop_size, channels)
        self.unlabeled_transform = unlabeled_transform or SegWeakStrongTransform(
            crop_size, channels, strong_views=strong_views
        )
        self.eval_transform = SegEvalTransform()

    @property
    def num_classes(self) -> int:
        return self.source.num_classes

    # ------------------------------------------------------------------ setup
    def dataset(self, samples: list[Sample], transform) -> SampleDataset:
        ids = [self.source.sample_id(p) for p, _ in samples]
        return SampleDataset(
            self.root, samples, self.source.read, transform, self.on_bad_file,
            self.source.read_target, ids,
        )  # fmt: skip

    def _limit(self, samples: list[Sample], factor: int = 1) -> list[Sample]:
        return samples[: self.limit_images * factor] if self.limit_images else samples

    def build(self, stage: str | None = None) -> None:
        target_of = dict(self.listing)
        self.labeled_samples = self._limit([(p, target_of[p]) for p, _ in self.labeled_samples])
        self.unlabeled_samples = self._limit(self.unlabeled_samples, self.unlabeled_ratio)
        self.val_samples = self._limit(self.val_samples)
        self.test_samples = self._limit(self.test_samples)
        self.labeled_set = self.train_set = self.dataset(
            self.labeled_samples, self.labeled_transform
        )
        self.unlabeled_set = self.dataset(self.unlabeled_samples, self.unlabeled_transform)

    # ---------------------------------------------------------------- loaders
    def val_dataloader(self) -> Any:
        return self.loader(self.dataset(self.val_samples, self.eval_transform), 1)

    def test_dataloader(self) -> Any:
        return self.loader(self.dataset(self.checked_test_samples(), self.eval_transform), 1)

    def predict_dataloader(self) -> list:
        """Whole test images (with their masks where there are any), in
        ``predict_split_names`` order."""
        if not self.test_samples:
            raise DataNotFoundError(f"No test images to predict in {self.root}")
        return [self.loader(self.dataset(self.test_samples, self.eval_transform), 1)]


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
    unlabeled: int = 0,
) -> Path:
    """Write ``root/<split>/images/img_<i>.png`` and ``root/<split>/masks/img_<i>.png``
    (binary, 0/255) in :class:`SegmentationSource`'s default layout; return ``root``.

    Args:
        root: Where to write.
        splits: Images of each split folder (default ``{"train": 12, "test": 4}``).
        unlabeled: Images without masks added to ``train/images`` (``free_<i>.png``).
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
    for i in range(unlabeled):
        write_image(
            root / "train" / "images" / f"free_{i:04d}.png",
            fake_nuclei(rng, size, size, channels)[0],
        )
    return root
