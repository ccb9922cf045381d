"""{{Name}}: what ssl-core needs to know about these jets, and nothing more.

Jets in ``.npz`` files under the data root, each with ``constituents`` (N, P, 4) float32
(px, py, pz, E, sorted by pT, zero-padded), ``n_constituents`` (N,) and ``label`` (N,):
the class indices of ``CLASSES`` (-1 or no ``label``: unlabeled). Everything else (test,
label and validation splits, loaders, batched augmentations, normalization) is
ssl-core's (:mod:`ssl_core.data`, :mod:`ssl_core.points`).
"""

from __future__ import annotations

from pathlib import Path

from ssl_core.points import JetFiles

PROJECT_DIR = Path(__file__).resolve().parents[2]
# The .npz files under the data root, read in this order.
FILES = {{files}}
# Names of labels 0, 1, ... (the files' ``label`` arrays).
CLASSES = {{classes}}
# The positive class of ROC AUC and background rejection.
SIGNAL = {{signal}}


class {{Name}}(JetFiles):
    """The jets of ``FILES``; ids ``<file>:<row>`` are what split files name. A fixed,
    seeded 20% of every class is the test set."""

    name = "{{name}}"
    class_names = CLASSES
    splits_dir = PROJECT_DIR / "splits"  # the DVC stage's label splits
    default_root = PROJECT_DIR / "example"  # the tiny example until you pass --data.root

    def __init__(self) -> None:
        super().__init__(files=FILES, class_names=CLASSES, signal_class=CLASSES.index(SIGNAL))
