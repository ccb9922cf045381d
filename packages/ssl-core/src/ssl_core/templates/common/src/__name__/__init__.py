"""{{Name}}: a {{task}} project of ssl-core ({{modality}} data)."""

from pathlib import Path

from ssl_core.project import Project
from {{name}}.datamodule import {{Name}}DataModule
from {{name}}.dataset import {{Name}}

PROJECT = Project(
    name="{{name}}",
    root=Path(__file__).resolve().parents[2],
    default_config="{{default_config}}",
    source={{Name}},
)

__all__ = ["PROJECT", "{{Name}}", "{{Name}}DataModule"]
