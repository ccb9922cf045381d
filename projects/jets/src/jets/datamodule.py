"""Jets for ssl-core methods: the jets datamodule with this project's source."""

from __future__ import annotations

from jets.dataset import Jets
from ssl_core.points.datamodule import JetDataModule


class JetsDataModule(JetDataModule):
    """Jets (see :class:`~ssl_core.points.datamodule.JetDataModule` for the arguments:
    ``root``, ``split``, ``train_on``, ``max_particles``, ``batch_size``, ...)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source=Jets(), **kwargs)
