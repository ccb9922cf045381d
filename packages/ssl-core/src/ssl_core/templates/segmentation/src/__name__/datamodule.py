"""{{Name}} for ssl-core methods: the generic datamodule with this project's source."""

from __future__ import annotations

from ssl_core.segmentation.data import SegmentationDataModule
from {{name}}.dataset import {{Name}}


class {{Name}}DataModule(SegmentationDataModule):
    """{{Name}} (arguments: :class:`~ssl_core.segmentation.data.SegmentationDataModule`)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source={{Name}}(), **kwargs)
