"""Fake {{Name}} data in the real layout, for the tests (``python -m {{name}}.fake ROOT``)."""

from __future__ import annotations

import sys
from pathlib import Path

from ssl_core.data.fake import make_fake_image_folder
from {{name}}.dataset import {{Name}}


def make_fake(
    root: str | Path, train_per_class: int = 8, test_per_class: int = 3, unlabeled: int = 20
) -> Path:
    """Write class-dependent random images under ``root`` (``unlabeled`` of them under
    ``root/unlabeled/``, without a class); return ``root``."""
    source = {{Name}}()
    splits = {source.train_dir: train_per_class, source.test_dir: test_per_class}
    return make_fake_image_folder(
        root, source.classes, splits, size=40, channels=source.channels, unlabeled=unlabeled
    )


if __name__ == "__main__":
    print(make_fake(sys.argv[1]))
