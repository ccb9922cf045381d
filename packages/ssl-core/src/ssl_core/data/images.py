"""Reading science images: JPEG/PNG (8 and 16 bit) and TIFF, any number of channels, as
``uint8`` ``(H, W, C)``; more bits are scaled per image and channel from their own min-max
range to 0-255 (a 12-bit camera image in 16 bits would be black divided by 257)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from ssl_core.errors import InputError

IMAGE_EXTENSIONS = (".jpeg", ".jpg", ".png", ".tif", ".tiff", ".bmp")
_TIFF = (".tif", ".tiff")
_IMREAD_RGB = getattr(cv2, "IMREAD_COLOR_RGB", None)  # OpenCV >= 4.11


class BadImageError(InputError, OSError):
    """An image file cannot be decoded or has the wrong number of channels."""


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Scale a non-``uint8`` image ``(H, W, C)`` per channel from its own min-max to 0-255."""
    if image.dtype == np.uint8:
        return image
    image = image.astype(np.float32)
    low = image.min(axis=(0, 1), keepdims=True)
    high = image.max(axis=(0, 1), keepdims=True)
    scaled = (image - low) * (255.0 / np.maximum(high - low, 1e-12))
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


def _fit_channels(image: np.ndarray, channels: int, path: str) -> np.ndarray:
    """Grey -> 3 channels and RGBA -> RGB where ``channels == 3``; RGB -> grey where 1."""
    have = image.shape[2]
    if have == channels:
        return image
    if channels == 3 and have == 1:
        return np.repeat(image, 3, axis=2)
    if channels == 3 and have == 4:  # alpha dropped (DSB2018's RGBA PNGs)
        return np.ascontiguousarray(image[:, :, :3])
    if channels == 1 and have in (3, 4):
        return cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY)[:, :, None]
    raise BadImageError(f"{path} has {have} channels, expected {channels}")


def read_bytes(path: str) -> np.ndarray:
    """The file's bytes; a truncated JPEG is refused (OpenCV would only warn)."""
    try:
        with open(path, "rb") as f:
            data = np.frombuffer(f.read(), dtype=np.uint8)
    except OSError as err:
        raise BadImageError(f"Cannot read image {path}: {err}") from None
    if not data.size:  # OpenCV 5 raises cv2.error on an empty buffer
        raise BadImageError(f"Cannot decode image {path}: the file is empty (0 bytes)")
    if data[:2].tobytes() == b"\xff\xd8" and b"\xff\xd9" not in data[-16:].tobytes():
        raise BadImageError(f"Cannot decode image {path}: the JPEG is truncated (no end marker)")
    return data


def decode(data: np.ndarray, path: str, rgb: bool = True) -> np.ndarray | None:
    """OpenCV's decoding (``None`` where it cannot), RGB(A)-ordered; with ``rgb`` 3 channels."""
    try:
        if rgb and _IMREAD_RGB is not None:
            return cv2.imdecode(data, _IMREAD_RGB | cv2.IMREAD_ANYDEPTH)  # RGB, 8/16 bit
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    except cv2.error as err:
        raise BadImageError(f"Cannot decode image {path}: {err}") from None
    if image is not None and image.ndim == 3 and image.shape[2] in (3, 4):
        code = cv2.COLOR_BGR2RGB if image.shape[2] == 3 else cv2.COLOR_BGRA2RGBA
        image = cv2.cvtColor(image, code)
    return image


def read_image(path: str | Path, channels: int = 3) -> np.ndarray:
    """Read an image file as ``uint8`` ``(H, W, channels)``: 3 RGB (grey expanded, alpha
    dropped), 1 grey, other counts as in the file (else :class:`BadImageError`)."""
    path = str(path)
    if path.lower().endswith(_TIFF):
        import tifffile

        try:
            image = tifffile.imread(path)
        except Exception as err:  # tifffile raises several types for broken files
            raise BadImageError(f"Cannot decode image {path}: {err}") from None
        if image.ndim == 3 and image.shape[0] < min(image.shape[1:]) and image.shape[0] <= 16:
            image = np.moveaxis(image, 0, -1)  # (C, H, W) stacks -> (H, W, C)
    else:
        image = decode(read_bytes(path), path, rgb=channels == 3)
    if image is None:
        raise BadImageError(f"Cannot decode image {path}")
    if image.ndim == 2:
        image = image[:, :, None]
    return _fit_channels(to_uint8(image), channels, path)


def write_image(path: Path, image: np.ndarray) -> None:
    """Write ``uint8`` ``(H, W)`` grey or ``(H, W, C)`` grey, RGB(A) as the file type of
    ``path`` (TIFF: any ``C``), atomically: ranks may write the same image."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in _TIFF:
        import tifffile

        tifffile.imwrite(path, image)
        return
    channels = image.shape[2] if image.ndim == 3 else 1
    if channels in (3, 4):
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR if channels == 3 else cv2.COLOR_RGBA2BGRA)
    ok, data = cv2.imencode(path.suffix, np.ascontiguousarray(image))
    if not ok:
        raise OSError(f"Could not write {path}")
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data.tobytes())
    os.replace(tmp, path)
