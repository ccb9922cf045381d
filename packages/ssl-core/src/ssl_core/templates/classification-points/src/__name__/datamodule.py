"""{{Name}} for ssl-core methods: the jets datamodule with this project's source."""

from __future__ import annotations

from ssl_core.points.datamodule import JetDataModule
from {{name}}.dataset import {{Name}}


class {{Name}}DataModule(JetDataModule):
    """{{Name}} (see :class:`~ssl_core.points.datamodule.JetDataModule` for the arguments:
    ``root``, ``split``, ``train_on``, ``max_particles``, ``batch_size``, ...)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source={{Name}}(), **kwargs)
