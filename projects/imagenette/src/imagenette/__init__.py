"""Imagenette (fast.ai's 10-class ImageNet subset) for ssl-core."""

from pathlib import Path

from imagenette.datamodule import ImagenetteDataModule
from imagenette.dataset import CLASS_NAMES, WNIDS, Imagenette
from ssl_core.project import Project

PROJECT = Project(name="imagenette", root=Path(__file__).resolve().parents[2], source=Imagenette)

__all__ = ["CLASS_NAMES", "PROJECT", "WNIDS", "Imagenette", "ImagenetteDataModule"]
