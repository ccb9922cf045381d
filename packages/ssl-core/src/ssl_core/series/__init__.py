"""Time series through ssl-core (its modules: docs/series.md), whose backbones take one
view ``{"series": (B, C, T), "mask": (B, T)}``.
"""

from ssl_core.series.augment import SeriesContrastiveTransform, SeriesWeakStrongTransform
from ssl_core.series.backbones import PatchTransformer1d, ResNet1d
from ssl_core.series.modality import Series, SeriesCollate, pad_series
from ssl_core.series.ts import TsArrays, UEASeries, read_ts

__all__ = [
    "PatchTransformer1d",
    "ResNet1d",
    "Series",
    "SeriesCollate",
    "SeriesContrastiveTransform",
    "SeriesWeakStrongTransform",
    "TsArrays",
    "UEASeries",
    "pad_series",
    "read_ts",
]
