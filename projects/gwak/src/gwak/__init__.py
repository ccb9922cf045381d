"""GWAK-style gravitational-wave anomaly detection for ssl-core (generated strain)."""

from pathlib import Path

from gwak.datamodule import GWAKDataModule
from gwak.dataset import GWAK, TRAIN_CLASSES
from ssl_core.project import Project

PROJECT = Project(name="gwak", root=Path(__file__).resolve().parents[2], source=GWAK)

__all__ = ["GWAK", "PROJECT", "TRAIN_CLASSES", "GWAKDataModule"]
