"""DSB2018: the 2018 Data Science Bowl stage 1 nuclei (BBBC038), what ssl-core needs to
know about it, and nothing more (splits, loaders, augmentations: :mod:`ssl_core.segmentation.data`).

Layout (Kaggle's, with the community mask fixes applied)::

    root/stage1_train/<id>/images/<id>.png   RGBA (alpha dropped; some images are grey)
    root/stage1_train/<id>/masks/<mask>.png  one binary PNG per nucleus (0/255)

The semantic mask of an image is the union of its nuclei (background 0, nucleus 1), each
nucleus file checked as a 2-class mask. The dataset ships no test masks: the test split is
a fixed, seeded (``TEST_SEED``) ``TEST_FRACTION`` of the images, stratified by image type
(:func:`image_type`: 541 fluorescence, 16 brightfield, 107 histology of the 664 images;
docs/segmentation.md).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from ssl_core.data.images import BadImageError
from ssl_core.manifest import cache_dir, cached_scan
from ssl_core.segmentation.data import SegmentationSource, SegSample
from ssl_core.splits import make_validation

PROJECT_DIR = Path(__file__).resolve().parents[2]

IMAGE_TYPES = ("fluorescence", "brightfield", "histology")  # stratum = index in this
HISTOLOGY_MIN_SATURATION = 10.0  # mean HSV saturation (0-255) from which an image is stained
FLUORESCENCE_MAX_MEDIAN = 100.0  # median grey level (0-255) below which the background is dark
TEST_FRACTION = 0.2
TEST_SEED = 0


def image_type(image: np.ndarray) -> str:
    """The type of a ``uint8`` RGB ``(H, W, 3)`` image: ``histology`` when the mean HSV
    saturation (OpenCV, 0-255) is >= 10 (stained tissue is coloured), else ``fluorescence``
    when the median grey level is < 100 (a dark background), else ``brightfield``."""
    rgb = np.ascontiguousarray(image[:, :, :3])
    saturation = float(cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[:, :, 1].mean())
    if saturation >= HISTOLOGY_MIN_SATURATION:
        return "histology"
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return "fluorescence" if float(np.median(grey)) < FLUORESCENCE_MAX_MEDIAN else "brightfield"


class DSB2018(SegmentationSource):
    """DSB2018 stage 1 nuclei: binary semantic masks (background, nucleus)."""

    name = "dsb2018"
    class_names = ("background", "nucleus")
    channels = 3
    # Per-channel mean and std in [0, 1] units, over all pixels of the 664 images.
    mean = (0.235, 0.227, 0.245)
    std = (0.327, 0.321, 0.340)
    images_root = "stage1_train"
    strata_names = IMAGE_TYPES
    splits_dir = PROJECT_DIR / "splits"  # the DVC stage's label splits
    default_root = PROJECT_DIR / "example"  # fake images in the real layout
    layout = (
        "stage1_train/<id>/images/<id>.png and stage1_train/<id>/masks/*.png: Kaggle's "
        "stage 1 training set with the community mask fixes, e.g. "
        "../shared/data/dsb2018-stage1-train"
    )

    # ---------------------------------------------------------------- listing
    def image_ids(self, root: Path) -> list[str]:
        """Sorted ids of the images under ``root/stage1_train``."""
        folder = Path(root) / self.images_root
        if not folder.is_dir():
            return []
        ids = sorted(e.name for e in os.scandir(folder) if e.is_dir())
        return [i for i in ids if (folder / i / "images" / f"{i}.png").is_file()]

    def image_types(self, root: Path) -> dict[str, str]:
        """``{id: image type}`` of every image (:func:`image_type`), cached per state of
        the image files (:func:`~ssl_core.manifest.cached_scan`)."""
        paths = {i: self._image_path(i) for i in self.image_ids(root)}

        def scan() -> dict[str, str]:
            return {i: image_type(self.read(root, p)) for i, p in paths.items()}

        return cached_scan(f"{self.name}-image-types", root, list(paths.values()), scan)

    def _image_path(self, image_id: str) -> str:
        return f"{self.images_root}/{image_id}/images/{image_id}.png"

    def test_ids(self, root: Path) -> set[str]:
        """The fixed test split: a seeded, stratified ``TEST_FRACTION`` of the images."""
        ids = self.image_ids(root)
        types = self.image_types(root)
        strata = [IMAGE_TYPES.index(types[i]) for i in ids]
        return set(make_validation(ids, strata, TEST_FRACTION, TEST_SEED))

    def list_samples(self, root: Path, split: str) -> list[SegSample]:
        """``(images/<id>.png, masks folder)`` of the ``train`` or ``test`` split."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {split!r}")
        ids = self.image_ids(root)
        test = self.test_ids(root) if ids else set()
        masks = {
            i: f"{self.images_root}/{i}/masks" for i in ids if (i in test) == (split == "test")
        }
        return [
            (self._image_path(i), m if (Path(root) / m).is_dir() else None)
            for i, m in masks.items()
        ]

    def strata(self, root: Path, samples: Sequence[SegSample]) -> list[int]:
        """The image type of each sample (index in :data:`IMAGE_TYPES`)."""
        types = self.image_types(root)
        return [IMAGE_TYPES.index(types[self.sample_id(path)]) for path, _ in samples]

    # ---------------------------------------------------------------- reading
    def read_mask(self, root: Path, ref: str) -> np.ndarray:
        """The union of the nucleus masks in the folder ``ref``: ``uint8`` 0/1 ``(H, W)``
        (from the cache when it has it)."""
        folder = Path(root) / ref
        files = self._nucleus_files(folder)
        cached = self._cached_union(folder, files)
        union = cv2.imread(str(cached), cv2.IMREAD_GRAYSCALE) if cached.is_file() else None
        return self._union(folder, files, cached) if union is None else union

    def mask_files(self, root: Path, ref: str) -> list[str]:
        """The nucleus PNGs of the masks folder ``ref`` (relative to ``root``)."""
        return [f"{ref}/{name}" for name, *_ in self._nucleus_files(Path(root) / ref)]

    def check_mask(self, root: Path, ref: str) -> tuple[int, int]:
        """Read and check every nucleus mask of ``ref`` (never the cached union), cache
        their union for training and return its ``(H, W)``."""
        folder = Path(root) / ref
        files = self._nucleus_files(folder)
        return self._union(folder, files, self._cached_union(folder, files)).shape[:2]

    def _nucleus_files(self, folder: Path) -> list[tuple[str, int, int]]:
        """``(name, size, modification time)`` of the nucleus PNGs in ``folder``, sorted."""
        files = [e for e in os.scandir(folder) if e.name.lower().endswith(".png")]
        return sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in files)

    def _cached_union(self, folder: Path, files: list[tuple[str, int, int]]) -> Path:
        """Where the union of ``files`` is cached: ``$SSL_CORE_CACHE/dsb2018/masks`` (up to
        375 PNGs per image otherwise decoded at every epoch)."""
        key = hashlib.sha256(repr(files).encode()).hexdigest()[:16]
        return cache_dir().parent / self.name / "masks" / f"{folder.parent.name}-{key}.png"

    def _union(self, folder: Path, files: list[tuple[str, int, int]], cached: Path) -> np.ndarray:
        """The union of the nucleus masks ``files`` of ``folder``, each read and checked
        as a 2-class mask (0/255 or 0/1: :meth:`read_mask_file`), written to ``cached``."""
        if not files:
            raise BadImageError(f"No nucleus masks in {folder}")
        union = None
        for name, *_ in files:
            mask = self.read_mask_file(folder / name)
            if union is None:
                union = np.zeros(mask.shape, np.uint8)
            if mask.shape != union.shape:
                raise BadImageError(
                    f"Masks of {folder} differ in size: {name} is {mask.shape}, others "
                    f"{union.shape}"
                )
            union |= mask
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f"tmp{os.getpid()}-{threading.get_ident()}-{cached.name}")
        # light compression: decodes in about half the time of the default (level 3)
        cv2.imwrite(str(tmp), union, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        tmp.replace(cached)
        return union

    # ------------------------------------------------------------ where it is
    def is_root(self, root: Path) -> bool:
        return bool(self.image_ids(root))
