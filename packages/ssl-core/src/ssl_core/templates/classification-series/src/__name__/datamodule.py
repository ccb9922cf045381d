"""{{Name}} for ssl-core methods: the series datamodule with this project's source."""

from __future__ import annotations

from ssl_core.series.datamodule import SeriesDataModule
from {{name}}.dataset import {{Name}}


class {{Name}}DataModule(SeriesDataModule):
    """{{Name}} (see :class:`~ssl_core.series.datamodule.SeriesDataModule` for the
    arguments: ``root``, ``split``, ``train_on``, ``train_views``, ``batch_size``, ...)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source={{Name}}(), **kwargs)
