"""{{Name}}: a series dataset project of ssl-core."""

from pathlib import Path

from ssl_core.project import Project
from {{name}}.datamodule import {{Name}}DataModule
from {{name}}.dataset import {{Name}}

PROJECT = Project(name="{{name}}", root=Path(__file__).resolve().parents[2], source={{Name}})

__all__ = ["PROJECT", "{{Name}}", "{{Name}}DataModule"]
