"""Fake {{Name}} series in the real layout, for the tests (``python -m {{name}}.fake ROOT``)."""

from __future__ import annotations

import sys
from pathlib import Path

from ssl_core.series.fake import write_fake_ts

CLASSES = {{classes}}


def make_fake(root: str | Path, train_per_class: int = 12, test_per_class: int = 4) -> Path:
    """Write ``{{name}}_TRAIN.ts`` and ``{{name}}_TEST.ts`` under ``root``; return ``root``."""
    root = Path(root)
    write_fake_ts(root / "{{name}}_TRAIN.ts", CLASSES, train_per_class, {{channels}}, seed=0)
    write_fake_ts(root / "{{name}}_TEST.ts", CLASSES, test_per_class, {{channels}}, seed=1)
    return root


if __name__ == "__main__":
    print(make_fake(sys.argv[1]))
