"""Fake {{Name}} jets in the real layout, for the tests (``python -m {{name}}.fake ROOT``):
not physics (:mod:`ssl_core.points.fake`), but the files and classes of :mod:`{{name}}.dataset`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ssl_core.points.fake import write_fake_jet_files
from {{name}}.dataset import CLASSES, FILES


def make_fake(root: str | Path, per_class: int = 60, seed: int = 0) -> Path:
    """Write ``FILES`` under ``root`` with ``per_class`` jets of every class in all."""
    return write_fake_jet_files(root, per_class=per_class, seed=seed, files=FILES, classes=CLASSES)


if __name__ == "__main__":
    print(make_fake(sys.argv[1]))
