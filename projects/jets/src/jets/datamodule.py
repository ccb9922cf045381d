"""Jets for ssl-core methods: the generic datamodule with this project's source."""

from __future__ import annotations

from jets.dataset import Jets
from ssl_core.data import ClassificationDataModule


class JetsDataModule(ClassificationDataModule):
    """Jets (see :class:`~ssl_core.data.ClassificationDataModule` for the arguments:
    ``root``, ``split``, ``train_on``, ``modality`` (``ssl_core.points.Points``:
    ``max_particles``), ``batch_size``, ...)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source=Jets(), **kwargs)
