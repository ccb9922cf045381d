"""DSB2018: the 2018 Data Science Bowl nuclei, a segmentation project of ssl-core."""

from pathlib import Path

from dsb2018.datamodule import DSB2018DataModule
from dsb2018.dataset import DSB2018
from ssl_core.project import Project

PROJECT = Project(
    name="dsb2018",
    root=Path(__file__).resolve().parents[2],
    default_config="supervised.yaml",
    source=DSB2018,
)

__all__ = ["DSB2018", "PROJECT", "DSB2018DataModule"]
