"""JapaneseVowels (Kudo, Toyama, Shimbo 1999) from the UEA/UCR archive (Bagnall et al.
2018): 12 LPC channels, 7-29 steps, 9 speakers; ``JapaneseVowels_TRAIN.ts`` (270
series) is the training set, ``JapaneseVowels_TEST.ts`` (370) the test set."""

from __future__ import annotations

from pathlib import Path

from ssl_core.series import UEASeries

PROJECT_DIR = Path(__file__).resolve().parents[2]


class Vowels(UEASeries):
    """The archive's two files in a data root (``--data.root
    ../shared/data/uea-japanesevowels``), with the project's splits folder."""

    splits_dir = PROJECT_DIR / "splits"

    def __init__(self) -> None:
        super().__init__("JapaneseVowels")
        self.name = "vowels"
