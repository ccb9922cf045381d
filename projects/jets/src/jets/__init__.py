"""Jets: a particle-jet project of ssl-core."""

from pathlib import Path

from jets.datamodule import JetsDataModule
from jets.dataset import Jets
from ssl_core.project import Project

PROJECT = Project(name="jets", root=Path(__file__).resolve().parents[2], source=Jets)

__all__ = ["PROJECT", "Jets", "JetsDataModule"]
