"""The generic data layer: what every project shares.

- :mod:`~ssl_core.data.sources`: what a project implements (:class:`ImageFolder`: how to
  list and read its files, class names, channels, mean/std, its :class:`Archive`).
- :mod:`~ssl_core.data.images`: reading JPEG/PNG (8/16 bit) and TIFF, any channels.
- :mod:`~ssl_core.data.datasets`: datasets with named fields and per-sample seeds.
- :mod:`~ssl_core.data.datamodule`: :class:`ClassificationDataModule` (splits,
  labeled/unlabeled batches, kNN bank/queries, predict with a shift).
- :mod:`~ssl_core.data.download`: download, checksum and safe extraction.
"""

from ssl_core.data.datamodule import ClassificationDataModule, normalize_batch
from ssl_core.data.datasets import ImageDataset, SeededSampler
from ssl_core.data.images import BadImageError, read_image
from ssl_core.data.sources import Archive, DataNotFoundError, ImageFolder

__all__ = [
    "Archive",
    "BadImageError",
    "ClassificationDataModule",
    "DataNotFoundError",
    "ImageDataset",
    "ImageFolder",
    "SeededSampler",
    "normalize_batch",
    "read_image",
]
