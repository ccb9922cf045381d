"""The generic data layer: what every project shares, whatever its kind of data.

- :mod:`~ssl_core.data.sources`: what a project implements (:class:`Source`,
  :class:`ImageFolder`, :class:`ArraySource`: how to list and read its samples, each with
  a target or none).
- :mod:`~ssl_core.data.modality`: what differs per kind of data (:class:`Modality`;
  :class:`Images` here, jets and series in :mod:`ssl_core.points` and
  :mod:`ssl_core.series`).
- :mod:`~ssl_core.data.images`: reading JPEG/PNG (8/16 bit) and TIFF, any channels.
- :mod:`~ssl_core.data.datasets`: the datasets (named fields, per-sample seeds).
- :mod:`~ssl_core.data.views`: views of any modality (the recipe container, batches).
- :mod:`~ssl_core.data.seeds`: per-sample random numbers of batch-wise augmentations.
- :mod:`~ssl_core.data.datamodule`: :class:`DataModule` (what every task shares: splits,
  labeled/unlabeled pools, loaders) and :class:`ClassificationDataModule`.
- :mod:`~ssl_core.data.download`: download, checksum and safe extraction.
"""

from ssl_core.data.datamodule import ClassificationDataModule, DataModule
from ssl_core.data.datasets import IndexedDataset, SampleDataset, SeededSampler
from ssl_core.data.images import BadImageError, read_image
from ssl_core.data.modality import Images, Modality
from ssl_core.data.sources import (
    Archive,
    ArrayData,
    ArraySource,
    BadDataError,
    DataNotFoundError,
    ImageFolder,
    Source,
)
from ssl_core.data.views import Views

__all__ = [
    "Archive",
    "ArrayData",
    "ArraySource",
    "BadDataError",
    "BadImageError",
    "ClassificationDataModule",
    "DataModule",
    "DataNotFoundError",
    "ImageFolder",
    "Images",
    "IndexedDataset",
    "Modality",
    "SampleDataset",
    "SeededSampler",
    "Source",
    "Views",
    "read_image",
]
