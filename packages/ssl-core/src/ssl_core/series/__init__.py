"""Time series through ssl-core: the ``.ts`` reader and the UEA/UCR source
(:mod:`~ssl_core.series.ts`), sensor augmentations (:mod:`~ssl_core.series.augment`: the
ops, and the recipes exported here), the modality (:mod:`~ssl_core.series.modality`) and
1-D backbones (:mod:`~ssl_core.series.backbones`); fake ``.ts`` files
:mod:`ssl_core.series.fake`.

A backbone takes one view ``{"series": (B, C, T), "mask": (B, T)}``; methods call it on a
view unchanged, as on an image tensor. The data layer's one datamodule serves series
(:class:`ssl_core.data.ClassificationDataModule` with a :class:`UEASeries` source, whose
modality is :class:`Series`).
"""

from ssl_core.series.augment import (
    SeriesContrastiveTransform,
    SeriesEvalTransform,
    SeriesTransform,
    SeriesWeakStrongTransform,
)
from ssl_core.series.backbones import PatchTransformer1d, ResNet1d
from ssl_core.series.modality import Series, SeriesCollate, pad_series
from ssl_core.series.ts import BadSeriesError, TsArrays, TsFormatError, UEASeries, read_ts

__all__ = [
    "BadSeriesError",
    "PatchTransformer1d",
    "ResNet1d",
    "Series",
    "SeriesCollate",
    "SeriesContrastiveTransform",
    "SeriesEvalTransform",
    "SeriesTransform",
    "SeriesWeakStrongTransform",
    "TsArrays",
    "TsFormatError",
    "UEASeries",
    "pad_series",
    "read_ts",
]
