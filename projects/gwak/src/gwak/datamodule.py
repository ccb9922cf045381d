"""GWAK's datamodule: the generic one with the generated strain as its source."""

from __future__ import annotations

from gwak.dataset import GWAK
from ssl_core.data import ClassificationDataModule


class GWAKDataModule(ClassificationDataModule):
    """Generated strain, written on first use under ``$SSL_CORE_CACHE`` (no ``root``
    needed); see :class:`~ssl_core.data.ClassificationDataModule` for the rest.

    Args:
        n_train: Training windows per class.
        n_test: Test windows per class.
        seed: The generator's seed.
        train_classes: Classes training sees (default: background, glitch, bbh).
        **kwargs: :class:`~ssl_core.data.ClassificationDataModule` arguments (``root``,
            ``split``, ``train_on``, ``modality``, transforms, ``batch_size``, ...).
    """

    def __init__(
        self,
        n_train: int = 1000,
        n_test: int = 1000,
        seed: int = 0,
        train_classes: list[str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(source=GWAK(n_train, n_test, seed, train_classes), **kwargs)
