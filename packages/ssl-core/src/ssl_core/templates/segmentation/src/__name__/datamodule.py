"""{{Name}} for ssl-core's segmentation methods: the generic datamodule with this
project's source."""

from __future__ import annotations

from ssl_core.segmentation.data import SegmentationDataModule
from {{name}}.dataset import {{Name}}


class {{Name}}DataModule(SegmentationDataModule):
    """{{Name}} (see :class:`~ssl_core.segmentation.data.SegmentationDataModule` for the
    arguments: ``root``, ``split``, ``train_on``, ``crop_size``, ``batch_size``, ...)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source={{Name}}(), **kwargs)
