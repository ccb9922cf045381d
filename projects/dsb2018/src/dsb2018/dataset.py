"""DSB2018: the 2018 Data Science Bowl stage 1 nuclei (BBBC038), what ssl-core needs to
know about it, and nothing more.

Layout (Kaggle's, with the community mask fixes applied)::

    root/stage1_train/<id>/images/<id>.png   RGBA (alpha dropped; some images are grey)
    root/stage1_train/<id>/masks/<mask>.png  one binary PNG per nucleus (0/255)

The semantic mask of an image is the union of its nuclei (background 0, nucleus 1). Every
nucleus file is checked as a 2-class mask (0/1 or 0/255, one channel or equal channels:
:meth:`~ssl_core.segmentation.data.SegmentationSource.read_mask_file`); at setup all of
them are read once per state of the files (``bad_samples``), which also caches the
unions that training reads.

The dataset ships no test masks, so the test split is carved here, once and for all: a
fixed, seeded (``TEST_SEED``), stratified ``TEST_FRACTION`` of the images, stratified by
image type. The rest is the training set, from which :mod:`ssl_core.splits` carves the
validation split and the label fractions (stratified by the same image type).

Image type: a recorded, deterministic rule on colour statistics of the RGB image
(:func:`image_type`), in this order:

1. ``histology`` when the mean HSV saturation (OpenCV, 0-255) is >= 10: stained
   tissue is coloured; fluorescence and brightfield images here are grey (saturation 0);
2. ``fluorescence`` when the median grey level is < 100: a dark background;
3. ``brightfield`` otherwise: a light, colourless background.

On the 664 images of ``../shared/data/dsb2018-stage1-train`` (measured): 557 images have
mean saturation 0 and 107 have >= 14.6 (nothing in between); of the grey ones the median
grey level is <= 44 for 541 and >= 226 for 16 (nothing in between). So: 541
fluorescence, 16 brightfield, 107 histology; test split 133 images (108 fluorescence, 3
brightfield, 22 histology), training set 531.

Everything else (splits, loaders, batches, augmentations) is ssl-core's
(:mod:`ssl_core.segmentation.data`).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from ssl_core.data.images import BadImageError
from ssl_core.manifest import cache_dir, fingerprint, write_atomic
from ssl_core.segmentation.data import SegmentationSource, SegSample
from ssl_core.splits import make_validation

PROJECT_DIR = Path(__file__).resolve().parents[2]

IMAGE_TYPES = ("fluorescence", "brightfield", "histology")  # stratum = index in this
HISTOLOGY_MIN_SATURATION = 10.0  # mean HSV saturation (0-255) from which an image is stained
FLUORESCENCE_MAX_MEDIAN = 100.0  # median grey level (0-255) below which the background is dark
TEST_FRACTION = 0.2
TEST_SEED = 0


def image_type(image: np.ndarray) -> str:
    """``fluorescence``, ``brightfield`` or ``histology`` of a ``uint8`` RGB ``(H, W, 3)``
    image (the rule of the module docstring)."""
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
    #: Keep each image's union of nucleus masks under ``$SSL_CORE_CACHE/dsb2018/masks``
    #: (up to 375 PNGs per image otherwise decoded at every epoch).
    cache_masks = True

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._types: dict[str, dict[str, str]] = {}

    # ---------------------------------------------------------------- listing
    def image_ids(self, root: Path) -> list[str]:
        """Sorted ids of the images under ``root/stage1_train``."""
        folder = Path(root) / self.images_root
        if not folder.is_dir():
            return []
        ids = sorted(e.name for e in os.scandir(folder) if e.is_dir())
        return [i for i in ids if (folder / i / "images" / f"{i}.png").is_file()]

    def image_types(self, root: Path) -> dict[str, str]:
        """``{id: image type}`` of every image (:func:`image_type`), computed once per data
        root and cached under ``$SSL_CORE_CACHE/dsb2018/`` keyed by the file list."""
        ids = self.image_ids(root)
        key = fingerprint(ids)[:16]
        if key in self._types:
            return self._types[key]
        cached = cache_dir().parent / self.name / f"image-types-{key}.json"
        types = json.loads(cached.read_text()) if cached.is_file() else None
        if types is None or set(types) != set(ids):
            types = {i: image_type(self.read(root, self._image_path(i))) for i in ids}
            write_atomic(cached, json.dumps(types, indent=0, sort_keys=True) + "\n")
        self._types[key] = types
        return types

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
        if not ids:
            return []
        test = self.test_ids(root)
        chosen = [i for i in ids if (i in test) == (split == "test")]
        out = []
        for i in chosen:
            masks = f"{self.images_root}/{i}/masks"
            out.append((self._image_path(i), masks if (Path(root) / masks).is_dir() else None))
        return out

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
        if cached is not None and cached.is_file():
            union = cv2.imread(str(cached), cv2.IMREAD_GRAYSCALE)
            if union is not None:
                return union
        return self._union(folder, files, cached)

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

    def _cached_union(self, folder: Path, files: list[tuple[str, int, int]]) -> Path | None:
        """Where the union of ``files`` is cached (``None`` without ``cache_masks``)."""
        if not self.cache_masks:
            return None
        key = hashlib.sha256(repr(files).encode()).hexdigest()[:16]
        return cache_dir().parent / self.name / "masks" / f"{folder.parent.name}-{key}.png"

    def _union(
        self, folder: Path, files: list[tuple[str, int, int]], cached: Path | None
    ) -> np.ndarray:
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
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(f"tmp{os.getpid()}-{threading.get_ident()}-{cached.name}")
            # light compression: decodes in about half the time of the default (level 3)
            cv2.imwrite(str(tmp), union, [cv2.IMWRITE_PNG_COMPRESSION, 1])
            tmp.replace(cached)
        return union

    # ------------------------------------------------------------ where it is
    def is_root(self, root: Path) -> bool:
        return bool(self.image_ids(root))
