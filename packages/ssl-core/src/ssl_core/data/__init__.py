"""The generic data layer: sources (what a project implements), modalities (what differs
per kind of data), datasets, views, datamodules and downloads."""

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
