"""The generic data layer: sources (what a project implements), modalities (what differs
per kind of data), datasets, views, datamodules and downloads."""

from ssl_core.data.datamodule import ClassificationDataModule, DataModule
from ssl_core.data.datasets import IndexedDataset, SampleDataset, SeededSampler
from ssl_core.data.images import read_image
from ssl_core.data.modality import Images
from ssl_core.data.sources import Archive, BadDataError, DataNotFoundError, ImageFolder

__all__ = [
    "Archive",
    "BadDataError",
    "ClassificationDataModule",
    "DataModule",
    "DataNotFoundError",
    "ImageFolder",
    "Images",
    "IndexedDataset",
    "SampleDataset",
    "SeededSampler",
    "read_image",
]
