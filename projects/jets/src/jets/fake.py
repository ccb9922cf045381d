"""Fake Jets jets in the real layout, for the tests (``python -m jets.fake ROOT``).

Not physics (1 or 3 Gaussian prongs, see :mod:`ssl_core.points.fake`): the arrays the
real files hold, so that the code sees what it will read.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ssl_core.points.fake import write_fake_jet_files


def make_fake(root: str | Path, per_class: int = 60, seed: int = 0) -> Path:
    """Write ``root/top.npz`` and ``root/qcd.npz`` with ``per_class`` jets each."""
    return write_fake_jet_files(root, per_class=per_class, seed=seed)


if __name__ == "__main__":
    print(make_fake(sys.argv[1]))
