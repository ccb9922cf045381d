"""{{Name}} for ssl-core methods: the generic datamodule with this project's source."""

from __future__ import annotations

from {{datamodule_module}} import {{DataModule}}
from {{name}}.dataset import {{Name}}


class {{Name}}DataModule({{DataModule}}):
    """{{Name}} (arguments: :class:`~{{datamodule_module}}.{{DataModule}}`)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source={{Name}}(), **kwargs)
