"""Fake {{Name}} series in the real layout, for the tests (``python -m {{name}}.fake ROOT``):
the files :mod:`{{name}}.dataset` reads, with its classes."""

from __future__ import annotations

import sys
from pathlib import Path

from ssl_core.series.fake import write_fake_ts
from {{name}}.dataset import CLASSES as DECLARED
from {{name}}.dataset import DATASET

CLASSES = DECLARED or ("class_a", "class_b")  # the fake files' @classLabel list
DIMENSIONS = {{channels}}  # channels per series, as the configs' in_channels


def make_fake(root: str | Path, train_per_class: int = 12, test_per_class: int = 4) -> Path:
    """Write ``<DATASET>_TRAIN.ts`` and ``<DATASET>_TEST.ts`` under ``root``; return ``root``."""
    root = Path(root)
    write_fake_ts(root / f"{DATASET}_TRAIN.ts", CLASSES, train_per_class, DIMENSIONS, seed=0)
    write_fake_ts(root / f"{DATASET}_TEST.ts", CLASSES, test_per_class, DIMENSIONS, seed=1)
    return root


if __name__ == "__main__":
    print(make_fake(sys.argv[1]))
