"""GWAK's datamodule: the generated strain with strain augmentations (time shift,
detector shift <= 10 ms and swap, sign flip, one scale, jitter)."""

from __future__ import annotations

from typing import Literal

from gwak.dataset import GWAK
from ssl_core.series.datamodule import SeriesDataModule


class GWAKDataModule(SeriesDataModule):
    """Generated strain, written on first use under ``$SSL_CORE_CACHE`` (no ``root``
    needed); see :class:`~ssl_core.series.datamodule.SeriesDataModule` for the rest.

    Args:
        n_train: Training windows per class.
        n_test: Test windows per class.
        seed: The generator's seed.
        train_classes: Classes training sees (default: background, glitch, bbh).
        kind: The views' augmentations (``strain``: two detectors).
        **kwargs: :class:`~ssl_core.series.datamodule.SeriesDataModule` arguments
            (``root``, ``split``, ``train_on``, ``train_views``, ``batch_size``, ...).
    """

    def __init__(
        self,
        n_train: int = 1000,
        n_test: int = 1000,
        seed: int = 0,
        train_classes: list[str] | None = None,
        kind: Literal["sensor", "strain"] = "strain",
        **kwargs,
    ) -> None:
        super().__init__(source=GWAK(n_train, n_test, seed, train_classes), kind=kind, **kwargs)
