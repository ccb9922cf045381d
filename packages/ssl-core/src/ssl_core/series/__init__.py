"""Time series through ssl-core: the ``.ts`` reader and the UEA/UCR source
(:mod:`~ssl_core.series.ts`), sensor augmentations (:mod:`~ssl_core.series.augment`), the
modality (:mod:`~ssl_core.series.modality`) and 1-D backbones
(:mod:`~ssl_core.series.backbones`), which take one view ``{"series": (B, C, T), "mask":
(B, T)}``.
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
