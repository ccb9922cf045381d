"""{{Name}}: what ssl-core needs to know about these series, and nothing more.

Series in the UEA/UCR ``.ts`` text format, under the data root: ``DATASET_TRAIN.ts``
(training; a series without a label is unlabeled) and ``DATASET_TEST.ts`` (the test
set). Samples are named ``DATASET_TRAIN.ts:<line>``. Everything else (splits, loaders,
views, standardisation) is ssl-core's (:mod:`ssl_core.data`, :mod:`ssl_core.series`).
"""

from __future__ import annotations

from pathlib import Path

from ssl_core.series import UEASeries

PROJECT_DIR = Path(__file__).resolve().parents[2]
# The files' stem: DATASET_TRAIN.ts and DATASET_TEST.ts.
DATASET = "{{dataset}}"
# Class names in label order; None: the training file's @classLabel list.
CLASSES = {{series_classes}}


class {{Name}}(UEASeries):
    """{{Name}} series and their classes; the channels are the files' ``@dimensions``."""

    splits_dir = PROJECT_DIR / "splits"  # the DVC stage's label splits
    default_root = PROJECT_DIR / "example"  # the tiny example until you pass --data.root

    def __init__(self) -> None:
        super().__init__(DATASET, class_names=list(CLASSES) if CLASSES else None)
        self.name = "{{name}}"  # what split files and manifests call the data
