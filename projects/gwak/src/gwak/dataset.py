"""GWAK-style strain for this project: :class:`~ssl_core.series.datamodule.GWAKStrain`
with the anomaly test's training classes (background, glitches, binary black holes) and
the project's splits folder. Sine-Gaussians and white-noise bursts are only in the test
set: the unseen anomalies (Raikman et al. 2023, arXiv:2309.11537).
"""

from __future__ import annotations

from pathlib import Path

from ssl_core.series.datamodule import GWAKStrain

PROJECT_DIR = Path(__file__).resolve().parents[2]
TRAIN_CLASSES = ("background", "glitch", "bbh")


class GWAK(GWAKStrain):
    """The generated strain (see :class:`~ssl_core.series.datamodule.GWAKStrain` for the
    arguments), training on :data:`TRAIN_CLASSES` unless told otherwise."""

    splits_dir = PROJECT_DIR / "splits"

    def __init__(
        self,
        n_train: int = 1000,
        n_test: int = 1000,
        seed: int = 0,
        train_classes: list[str] | None = None,
    ) -> None:
        super().__init__(n_train, n_test, seed, list(train_classes or TRAIN_CLASSES))
