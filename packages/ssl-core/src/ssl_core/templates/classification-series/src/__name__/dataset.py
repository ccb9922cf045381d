"""{{Name}}: what ssl-core needs to know about these series, and nothing more.

Series in the UEA/UCR ``.ts`` text format: ``<root>/{{name}}_TRAIN.ts`` (training; a
series without a label is unlabeled) and ``<root>/{{name}}_TEST.ts`` (the test set).
Samples are named ``{{name}}_TRAIN.ts:<line>``. Everything else (splits, loaders, views,
standardisation) is ssl-core's (:mod:`ssl_core.data`, :mod:`ssl_core.series`).
"""

from __future__ import annotations

from pathlib import Path

from ssl_core.series import UEASeries

PROJECT_DIR = Path(__file__).resolve().parents[2]


class {{Name}}(UEASeries):
    """{{Name}} series and their classes (the training file's ``@classLabel`` list)."""

    splits_dir = PROJECT_DIR / "splits"  # the DVC stage's label splits
    default_root = PROJECT_DIR / "example"  # the tiny example until you pass --data.root

    def __init__(self) -> None:
        super().__init__("{{name}}")
