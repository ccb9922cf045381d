"""DSB2018 for ssl-core's segmentation methods: the generic datamodule with this
project's source."""

from __future__ import annotations

from dsb2018.dataset import DSB2018
from ssl_core.segmentation.data import SegmentationDataModule


class DSB2018DataModule(SegmentationDataModule):
    """DSB2018 nuclei (see :class:`~ssl_core.segmentation.data.SegmentationDataModule`
    for the arguments: ``root``, ``split``, ``train_on``, ``crop_size``, ...)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source=DSB2018(), **kwargs)
