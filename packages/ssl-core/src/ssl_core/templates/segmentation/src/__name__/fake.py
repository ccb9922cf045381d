"""Fake {{Name}} data in the real layout, for the tests (``python -m {{name}}.fake ROOT``)."""

from __future__ import annotations

import sys
from pathlib import Path

from ssl_core.segmentation.data import make_fake_segmentation
from {{name}}.dataset import {{Name}}


def make_fake(root: str | Path, train: int = 16, test: int = 4, unlabeled: int = 16) -> Path:
    """Write fake images (bright blobs on a dark background) and their masks under
    ``root``, and ``unlabeled`` training images without masks; return ``root``."""
    source = {{Name}}()
    splits = {source.train_dir: train, source.test_dir: test}
    return make_fake_segmentation(
        root, splits, size=64, channels=source.channels, unlabeled=unlabeled
    )


if __name__ == "__main__":
    print(make_fake(sys.argv[1]))
