"""{{Name}} for ssl-core methods: the generic datamodule with this project's source."""

from __future__ import annotations

from ssl_core.data import ClassificationDataModule
from {{name}}.dataset import {{Name}}


class {{Name}}DataModule(ClassificationDataModule):
    """{{Name}} (arguments: :class:`~ssl_core.data.ClassificationDataModule`)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source={{Name}}(), **kwargs)
