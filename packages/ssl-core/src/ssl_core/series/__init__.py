"""Time series through ssl-core: the ``.ts`` reader and source, generated GWAK-style
strain, augmentations, collation and standardisation, backbones and the efficiency-vs-SNR
figure. See :mod:`ssl_core.series.ts`, :mod:`~ssl_core.series.gw`,
:mod:`~ssl_core.series.augment`, :mod:`~ssl_core.series.collate`,
:mod:`~ssl_core.series.backbones` and :mod:`~ssl_core.series.efficiency`.

The data layer's side (sources of series with optional targets, ``SeriesDataModule``)
is :mod:`ssl_core.series.datamodule`; pictures of strain and of a learned space
:mod:`ssl_core.series.figures`; fake ``.ts`` files :mod:`ssl_core.series.fake`.

A backbone takes one view ``{"series": (B, C, T), "mask": (B, T)}``; methods call it on a
view unchanged, as on an image tensor.
"""

from ssl_core.series.augment import (
    ChannelShift,
    DetectorShift,
    DetectorSwap,
    Jitter,
    RandomCrop,
    Scale,
    SeriesEvalTransform,
    SeriesTransform,
    SeriesView,
    SignFlip,
    TimeMask,
    TimeShift,
    contrastive_ops,
    contrastive_transform,
    strong_ops,
    weak_ops,
    weak_strong_transform,
)
from ssl_core.series.backbones import PatchTransformer1d, ResNet1d
from ssl_core.series.collate import (
    SeriesCollate,
    SeriesDataset,
    cat_views,
    channel_statistics,
    normalize_series_batch,
    pad_series,
    pad_view,
    standardize,
)
from ssl_core.series.efficiency import (
    Efficiency,
    efficiency_vs_snr,
    plot_efficiency,
    threshold_at_far,
)
from ssl_core.series.gw import (
    CLASSES as GWAK_CLASSES,
)
from ssl_core.series.gw import (
    GWAKSource,
    GWConfig,
    aligo_psd,
    ensure_dataset,
    load_dataset,
    whiten,
    write_dataset,
)
from ssl_core.series.ts import (
    BadSeriesError,
    SeriesSample,
    TsFormatError,
    TsSource,
    UEASource,
    describe_bad,
    read_ts,
)

__all__ = [
    "BadSeriesError",
    "ChannelShift",
    "DetectorShift",
    "DetectorSwap",
    "Efficiency",
    "GWAKSource",
    "GWAK_CLASSES",
    "GWConfig",
    "Jitter",
    "PatchTransformer1d",
    "RandomCrop",
    "ResNet1d",
    "Scale",
    "SeriesCollate",
    "SeriesDataset",
    "SeriesEvalTransform",
    "SeriesSample",
    "SeriesTransform",
    "SeriesView",
    "SignFlip",
    "TimeMask",
    "TimeShift",
    "TsFormatError",
    "TsSource",
    "UEASource",
    "cat_views",
    "aligo_psd",
    "channel_statistics",
    "contrastive_ops",
    "contrastive_transform",
    "describe_bad",
    "efficiency_vs_snr",
    "ensure_dataset",
    "load_dataset",
    "normalize_series_batch",
    "pad_series",
    "pad_view",
    "plot_efficiency",
    "read_ts",
    "standardize",
    "strong_ops",
    "threshold_at_far",
    "weak_ops",
    "whiten",
    "write_dataset",
    "weak_strong_transform",
]
