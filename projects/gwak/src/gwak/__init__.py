"""GWAK-style gravitational-wave anomaly detection for ssl-core: the strain simulator
(:mod:`gwak.strain`), its source (:mod:`gwak.dataset`), the strain views and modality
(:mod:`gwak.augment`), the efficiency-vs-SNR evaluator (:mod:`gwak.efficiency`), the
coincident excess-power baseline (:mod:`gwak.excess_power`), the comparison of spaces
(:mod:`gwak.compare`) and figures (:mod:`gwak.figures`)."""

from pathlib import Path

from gwak.augment import Strain, StrainContrastiveTransform, StrainWeakStrongTransform
from gwak.datamodule import GWAKDataModule
from gwak.dataset import GWAK, TRAIN_CLASSES
from ssl_core.project import Project

PROJECT = Project(name="gwak", root=Path(__file__).resolve().parents[2], source=GWAK)

__all__ = [
    "GWAK",
    "PROJECT",
    "TRAIN_CLASSES",
    "GWAKDataModule",
    "Strain",
    "StrainContrastiveTransform",
    "StrainWeakStrongTransform",
]
