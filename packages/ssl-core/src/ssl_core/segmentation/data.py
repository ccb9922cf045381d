"""The data side of segmentation: a project's *source* (:class:`SegmentationSource`:
how to list and read images and masks) and :class:`SegmentationDataModule`. An image
without a mask is unlabeled. Batches: docs/segmentation.md, "Data: sources, batches, transforms".
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
import PIL.Image

from ssl_core.data.datamodule import DataModule
from ssl_core.data.datasets import SampleDataset
from ssl_core.data.images import BadImageError, decode, read_bytes, write_image
from ssl_core.data.sources import DataNotFoundError, Sample, Source
from ssl_core.errors import BadInputError, one_line
from ssl_core.manifest import cached_scan
from ssl_core.segmentation.transforms import (
    IGNORE_INDEX,
    SegEvalTransform,
    SegTrainTransform,
    SegWeakStrongTransform,
)

SegSample = tuple[str, str | None]  # (image path relative to the root, mask reference)


class MaskMismatchError(BadImageError):
    """A mask does not have its image's size."""


class BadMaskError(BadImageError):
    """A mask holds values or colours that are not class ids of its source."""


def parse_colour(key: str) -> tuple[int, int, int]:
    """The RGB colour of a palette key ``"255,0,0"`` or ``"#ff0000"`` (else BadInputError)."""
    text = str(key).strip()
    try:
        if text.startswith("#") and len(text) == 7:
            rgb = tuple(int(text[i : i + 2], 16) for i in (1, 3, 5))
        else:
            rgb = tuple(int(part) for part in text.split(","))
    except ValueError:
        rgb = ()
    if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
        raise BadInputError(
            f"Palette colour {key!r} is not 'R,G,B' (0-255 each, e.g. '255,0,0') or '#rrggbb'"
        )
    return rgb


def _codes(rgb: np.ndarray) -> np.ndarray:
    """One ``uint32`` per pixel of a ``uint8`` ``(..., 3)`` RGB array: ``R << 16 | G << 8 | B``."""
    rgb = rgb.astype(np.uint32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def _colour(code: int) -> str:
    """``"255,0,0"``: the colour of a code of :func:`_codes`."""
    return f"{code >> 16},{(code >> 8) & 255},{code & 255}"


def _colour_names(codes: np.ndarray, limit: int = 5) -> str:
    """``"0,0,0; 255,0,0"``: the colours of sorted unique ``codes``, at most ``limit``."""
    names = [_colour(c) for c in codes[:limit].tolist()]
    more = f" and {len(codes) - limit} more" if len(codes) > limit else ""
    return "; ".join(names) + more


def _values_found(values: np.ndarray) -> list[int]:
    """The distinct values of a mask, sorted (a histogram for ``uint8``: no sort)."""
    if values.dtype == np.uint8:
        return np.flatnonzero(np.bincount(values.ravel(), minlength=256)).tolist()
    return np.unique(values).tolist()


def _show(values: list[int], limit: int = 8) -> str:
    """``"[0, 1, 7]"``: the values, at most ``limit`` of them, for a message."""
    shown = ", ".join(map(str, values[:limit]))
    return f"[{shown}{f', ... ({len(values)} values)' if len(values) > limit else ''}]"


def _mismatch(ref: str, mask: Sequence[int], image: Sequence[int]) -> str:
    """The problem of a mask of shape ``mask`` ``(H, W, ...)`` for an image of ``image``."""
    return (
        f"Mask {ref} is {mask[1]}x{mask[0]} px (WxH) but its image is {image[1]}x{image[0]} "
        "px: fix or remove the pair"
    )


class SegmentationSource(Source):
    """Images and masks of a segmentation dataset: what a project implements.

    Layout: ``layout``; masks: docs/segmentation.md, "Masks". Subclasses override the class
    attributes, :meth:`list_samples`, :meth:`read_mask` (:meth:`mask_files`, :meth:`check_mask`).

    Args:
        class_names: Names of the classes in id order (default: background, foreground).
        channels: Channels the network sees (1 grey, 3 RGB, or the files' own count).
        mean: Per-channel mean in [0, 1] units (normalization on the device).
        std: Per-channel standard deviation in [0, 1] units.
        palette: Colour masks: ``{"R,G,B" or "#rrggbb": class id or 255}`` (all colours).
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
    #: Colours of colour masks to class ids (``palette`` above); ``None``: none.
    palette: dict[str, int] | None = None

    def __init__(
        self,
        class_names: Sequence[str] | None = None,
        channels: int | None = None,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        palette: dict[str, int] | None = None,
    ) -> None:
        super().__init__(class_names, channels, mean, std)
        if palette is not None:
            self.palette = dict(palette)
        self._palette_codes = self._palette_ids = None
        if self.palette:
            by_code = {}
            for key, class_id in self.palette.items():
                if not (0 <= int(class_id) < self.num_classes or class_id == IGNORE_INDEX):
                    raise BadInputError(
                        f"Palette colour {key!r} maps to {class_id}: {self.name} has class ids "
                        f"0-{self.num_classes - 1} {list(self.class_names)} (255 = ignore)"
                    )
                by_code[int(_codes(np.array(parse_colour(key), np.uint8)))] = int(class_id)
            self._palette_codes = np.array(sorted(by_code), np.uint32)
            self._palette_ids = np.array([by_code[c] for c in sorted(by_code)], np.uint8)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def list_samples(self, root: Path, split: str) -> list[SegSample]:
        """Sorted ``(image path, mask reference or None)`` of ``split`` (``train``, ``test``)."""
        folder = self.split_dir(split)
        images = Path(root) / folder / self.images_dir
        if not images.is_dir():
            return []
        samples = []
        files = (e.name for e in os.scandir(images) if e.is_file())
        for name in sorted(n for n in files if n.lower().endswith(self.extensions)):
            mask = f"{folder}/{self.masks_dir}/{Path(name).stem}{self.mask_extension}"
            has_mask = (Path(root) / mask).is_file()
            samples.append((f"{folder}/{self.images_dir}/{name}", mask if has_mask else None))
        return samples

    def sample_id(self, path: str) -> str:
        """The id of the image at ``path``: the name of its predicted mask (``<id>.png``)."""
        return Path(path).stem

    def read_mask(self, root: Path, ref: str) -> np.ndarray:
        """The mask ``ref`` as ``uint8`` ``(H, W)`` class ids (255: ignore)."""
        return self.read_mask_file(Path(root) / ref)

    def read_mask_file(self, path: Path) -> np.ndarray:
        """The mask file ``path`` as ``uint8`` ``(H, W)`` class ids: grey values checked
        by :meth:`class_ids`, colours mapped by the palette (else :class:`BadMaskError`)."""
        mask = decode(read_bytes(str(path)), str(path), rgb=False)  # colour in RGB order
        if mask is None:
            raise BadImageError(f"Cannot decode mask {path}: not an image OpenCV reads")
        if mask.ndim == 3 and mask.shape[2] in (2, 4):  # grey + alpha, RGBA: alpha dropped
            mask = mask[:, :, :-1]
        if mask.ndim == 3 and mask.shape[2] == 1:
            mask = mask[:, :, 0]
        if mask.ndim == 3 and mask.shape[2] != 3:
            raise BadMaskError(f"Mask {path} has {mask.shape[2]} channels: save one (class ids)")
        if self._palette_codes is not None:
            return self._map_palette(mask, path)
        if mask.ndim == 3:
            if (mask[:, :, 1:] != mask[:, :, :1]).any():
                raise self._colour_mask_error(mask, path)
            mask = mask[:, :, 0]  # a grey mask saved in colour
        return self.class_ids(mask, path)

    def class_ids(self, values: np.ndarray, path: Path | str) -> np.ndarray:
        """A grey mask's values as ``uint8`` class ids: 0/1 or 0/255 for two classes, else
        ids below the class count and 255 (ignore); others are a :class:`BadMaskError`."""
        if not np.issubdtype(values.dtype, np.integer):
            raise BadMaskError(f"Mask {path} holds {values.dtype} values: save integer class ids")
        # min and max first: a pass over every value is needed only when they are off
        low, high = int(values.min()), int(values.max())
        names = ", ".join(self.class_names)
        if self.num_classes == 2:
            if low >= 0 and high <= 1:
                return values.astype(np.uint8, copy=False)
            if high == 255 and not np.count_nonzero((values != 0) & (values != 255)):
                return (values == 255).astype(np.uint8)
            raise BadMaskError(
                f"Mask {path} holds values {_show(_values_found(values))}: a mask of 2 "
                f"classes ({names}) holds 0/1 or 0/255 (255 = foreground), not both and "
                "nothing else: fix the mask, or name more classes in the source's class_names"
            )
        if low < 0 or high >= self.num_classes:
            found = _values_found(values)
            wrong = [v for v in found if v < 0 or (v >= self.num_classes and v != IGNORE_INDEX)]
            if wrong:
                raise BadMaskError(
                    f"Mask {path} holds values {_show(found)}, of which {_show(wrong)} are no "
                    f"class id: {self.name} has {self.num_classes} classes (ids 0-"
                    f"{self.num_classes - 1}: {names}) and 255 = ignore: fix the mask, or "
                    "name the missing classes in the source's class_names"
                )
        return values.astype(np.uint8, copy=False)

    def _map_palette(self, mask: np.ndarray, path: Path) -> np.ndarray:
        """The class ids of a colour (or grey) ``uint8`` mask by the palette."""
        if mask.dtype != np.uint8:
            raise BadMaskError(f"Mask {path} is {mask.dtype}: a palette maps 8-bit colours")
        rgb = mask if mask.ndim == 3 else np.repeat(mask[:, :, None], 3, axis=2)
        codes = _codes(rgb)
        where = np.searchsorted(self._palette_codes, codes)
        where = np.minimum(where, len(self._palette_codes) - 1)
        known = self._palette_codes[where] == codes
        if not known.all():
            unknown = np.unique(codes[~known])
            raise BadMaskError(
                f"Mask {path} holds colours that are not in the palette: RGB "
                f"{_colour_names(unknown)} ({int((~known).sum())} px): add them to the "
                f"source's palette {json.dumps(self.palette)} or fix the mask"
            )
        return self._palette_ids[where]

    def _colour_mask_error(self, rgb: np.ndarray, path: Path) -> BadMaskError:
        """The error for a colour mask without a palette, with a palette to start from."""
        colours = np.unique(_codes(rgb))
        example = {_colour(c): i for i, c in enumerate(colours[: self.num_classes].tolist())}
        return BadMaskError(
            f"Mask {path} is a colour mask (its channels differ; RGB colours "
            f"{_colour_names(colours)}): save class ids in one channel, or declare the "
            "source's palette of RGB colours to class ids, e.g. --data.source.init_args."
            f"palette '{json.dumps(example)}' (docs/segmentation.md, Masks)"
        )

    def read_target(self, root: Path, ref: str, image: np.ndarray) -> np.ndarray:
        """The mask ``ref`` of ``image``, refused when its size differs from the image's."""
        mask = self.read_mask(root, ref)
        if mask.shape[:2] != image.shape[:2]:
            raise MaskMismatchError(_mismatch(ref, mask.shape, image.shape))
        return mask

    def mask_files(self, root: Path, ref: str) -> list[str]:
        """The files of the mask ``ref``: :meth:`bad_samples` reads it again if one changes."""
        return [ref]

    def check_mask(self, root: Path, ref: str) -> tuple[int, int]:
        """Read the mask ``ref`` as training does and return its ``(H, W)``."""
        return self.read_mask(root, ref).shape[:2]

    def sample_problem(self, root: Path, path: str, ref: str | None) -> str | None:
        """Why the sample ``(path, ref)`` cannot be used (empty image, bad mask), or ``None``."""
        if os.path.getsize(Path(root) / path) == 0:
            return f"Image {path} is empty (0 bytes)"
        if ref is None:
            return None
        try:
            height, width = self.check_mask(root, ref)
        except BadImageError as err:
            return one_line(err)
        try:
            with PIL.Image.open(Path(root) / path) as image:  # reads the header only
                size = image.size
        except (OSError, SyntaxError, ValueError):
            return None  # not PIL's to read: the size is checked when the image is read
        return _mismatch(ref, (height, width), size[::-1]) if size != (width, height) else None

    def bad_samples(self, root: Path) -> dict[str, str]:
        """``{image path: problem}`` of the unusable samples, cached per state of the files
        (:func:`~ssl_core.manifest.cached_scan`)."""
        samples = self.training_samples(root, required=False) + self.list_samples(root, "test")
        if not samples:
            return {}
        masks = [f for _, ref in samples if ref is not None for f in self.mask_files(root, ref)]
        files = [path for path, _ in samples] + masks

        def scan() -> dict[str, str]:
            with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:  # decoding frees the GIL
                problems = pool.map(lambda sample: self.sample_problem(root, *sample), samples)
            return {path: p for (path, _), p in zip(samples, problems, strict=True) if p}

        settings = json.dumps([type(self).__qualname__, self.class_names, self.palette])
        name = f"{self.name}-masks-{hashlib.sha256(settings.encode()).hexdigest()[:12]}"
        return cached_scan(name, root, files, scan)


class SegmentationDataModule(DataModule):
    """Any segmentation project's data (other arguments: :class:`DataModule`'s).

    Args:
        source: The dataset (how to list and read its images and masks).
        crop_size: Side of the random training crops (whole images are evaluated).
        train_on: The split's ``labeled`` images, or ``semi``: labeled and unlabeled batches.
        labeled_transform: Labeled samples (default :class:`SegTrainTransform`).
        unlabeled_transform: Unlabeled samples (default :class:`SegWeakStrongTransform`).
        strong_views: Strong views of the default unlabeled transform.
        limit_images: Only the first N images of each set (``N * unlabeled_ratio`` unlabeled).
        **kwargs: :class:`DataModule` arguments (``root``, ``split``, ``val_fraction``, ...).
    """

    ignore_index: int = IGNORE_INDEX
    train_modes = ("labeled", "semi")
    without_targets = (
        "a segmentation needs masks for some images; without any, pretrain an encoder "
        "self-supervised on the images (ssl_core.data.ClassificationDataModule with "
        "train_on all, as dsb2018's simclr-cpu recipe does)"
    )
    target_name = "mask"

    def __init__(
        self,
        source: SegmentationSource | None = None,
        crop_size: int = 256,
        train_on: Literal["labeled", "semi"] = "labeled",
        labeled_transform: Any | None = None,
        unlabeled_transform: Any | None = None,
        strong_views: int = 2,
        batch_size: int = 8,
        num_workers: int = 2,
        limit_images: int | None = None,
        **kwargs,
    ) -> None:
        source = source if source is not None else SegmentationSource()
        if source.num_classes < 2:
            raise BadInputError(f"A segmentation needs >= 2 classes, not {source.class_names}")
        super().__init__(
            source, train_on=train_on, batch_size=batch_size, num_workers=num_workers,
            modality=None, remeasure_statistics=False, **kwargs,
        )  # fmt: skip
        channels, self.limit_images = source.channels, limit_images
        self.labeled_transform = labeled_transform or SegTrainTransform(crop_size, channels)
        self.unlabeled_transform = unlabeled_transform or SegWeakStrongTransform(
            crop_size, channels, strong_views=strong_views
        )
        self.eval_transform = SegEvalTransform()

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

    def whole_images(self, samples: list[Sample]) -> Any:
        """A loader of whole images (with their masks where there are any), one per batch."""
        return self.loader(self.dataset(samples, self.eval_transform), 1)

    def val_dataloader(self) -> Any:
        return self.whole_images(self.val_samples)

    def test_dataloader(self) -> Any:
        return self.whole_images(self.checked_test_samples())

    def predict_dataloader(self) -> list:
        if not self.test_samples:
            raise DataNotFoundError(f"No test images to predict in {self.root}")
        return [self.whole_images(self.test_samples)]


def fake_nuclei(
    rng: np.random.Generator, height: int, width: int, channels: int, count: int | None = None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """A fake microscopy image ``(H, W, channels)`` of bright discs and a mask per disc."""
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
    """Write ``splits`` images and 0/255 masks in :class:`SegmentationSource`'s default
    layout, and ``unlabeled`` images without masks (``train/images/free_<i>.png``)."""
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
        image = fake_nuclei(rng, size, size, channels)[0]
        write_image(root / "train" / "images" / f"free_{i:04d}.png", image)
    return root
