"""The generic data layer: what every project shares.

- :mod:`~ssl_core.data.sources`: what a project implements (:class:`Source`,
  :class:`ImageFolder`: how to list and read its samples, each with a target or none).
- :mod:`~ssl_core.data.images`: reading JPEG/PNG (8/16 bit) and TIFF, any channels.
- :mod:`~ssl_core.data.datasets`: the one dataset (named fields, per-sample seeds).
- :mod:`~ssl_core.data.datamodule`: :class:`DataModule` (what every task shares: splits,
  labeled/unlabeled pools, loaders) and :class:`ClassificationDataModule`.
- :mod:`~ssl_core.data.download`: download, checksum and safe extraction.
"""

from ssl_core.data.datamodule import ClassificationDataModule, DataModule, normalize_batch
from ssl_core.data.datasets import ImageDataset, SampleDataset, SeededSampler
from ssl_core.data.images import BadImageError, read_image
from ssl_core.data.sources import Archive, BadDataError, DataNotFoundError, ImageFolder, Source

__all__ = [
    "Archive",
    "BadDataError",
    "BadImageError",
    "ClassificationDataModule",
    "DataModule",
    "DataNotFoundError",
    "ImageDataset",
    "ImageFolder",
    "SampleDataset",
    "SeededSampler",
    "Source",
    "normalize_batch",
    "read_image",
]
