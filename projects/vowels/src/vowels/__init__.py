"""JapaneseVowels (UEA/UCR multivariate series) for ssl-core."""

from pathlib import Path

from ssl_core.project import Project
from vowels.datamodule import VowelsDataModule
from vowels.dataset import Vowels

PROJECT = Project(name="vowels", root=Path(__file__).resolve().parents[2], source=Vowels)

__all__ = ["PROJECT", "Vowels", "VowelsDataModule"]
