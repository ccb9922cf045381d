"""JapaneseVowels' datamodule: the generic one with this project's source (variable-length
sensor series: crop, scale, jitter, time mask views; padding masks end to end)."""

from __future__ import annotations

from ssl_core.data import ClassificationDataModule
from vowels.dataset import Vowels


class VowelsDataModule(ClassificationDataModule):
    """JapaneseVowels; see :class:`~ssl_core.data.ClassificationDataModule` for the
    arguments (``root``, ``split``, ``train_on``, transforms, ``batch_size``, ...)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source=Vowels(), **kwargs)
