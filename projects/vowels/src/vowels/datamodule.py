"""JapaneseVowels' datamodule: variable-length sensor series (crop, scale, jitter, time
mask views; padding masks end to end)."""

from __future__ import annotations

from ssl_core.series.datamodule import SeriesDataModule
from vowels.dataset import Vowels


class VowelsDataModule(SeriesDataModule):
    """JapaneseVowels; see :class:`~ssl_core.series.datamodule.SeriesDataModule` for the
    arguments (``root``, ``split``, ``train_on``, ``train_views``, ``batch_size``, ...)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source=Vowels(), **kwargs)
