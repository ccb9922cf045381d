"""Jets for ssl-core methods: the jets datamodule with this project's source."""

from __future__ import annotations

from jets.dataset import Jets
from ssl_core.points.datamodule import JetDataModule


class JetsDataModule(JetDataModule):
    """Jets (see :class:`~ssl_core.points.datamodule.JetDataModule` for the arguments:
    ``root``, ``split``, ``train_on``, ``max_particles``, ``batch_size``, ...).

    Args:
        train_classes: Train on these classes only (e.g. ``[0]``: an anomaly space).
        **kwargs: :class:`~ssl_core.points.datamodule.JetDataModule`'s arguments.
    """

    def __init__(self, train_classes: list[int] | None = None, **kwargs) -> None:
        super().__init__(source=Jets(train_classes), **kwargs)
