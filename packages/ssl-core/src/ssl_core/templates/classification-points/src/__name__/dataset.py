"""{{Name}}: what ssl-core needs to know about these jets, and nothing more.

Everything else (test, label and validation splits, loaders, batched augmentations,
normalization) is ssl-core's (:mod:`ssl_core.data`, :mod:`ssl_core.points`).
"""

from __future__ import annotations

from pathlib import Path

from ssl_core.points import JetFiles

PROJECT_DIR = Path(__file__).resolve().parents[2]


class {{Name}}(JetFiles):
    """The jets: ``top.npz`` (signal, label 1) and ``qcd.npz`` (label 0) under the
    data root; ids ``top.npz:17`` (file and row) are what split files name."""

    name = "{{name}}"
    class_names = ("qcd", "top")  # label order
    splits_dir = PROJECT_DIR / "splits"  # the DVC stage's label splits
    default_root = PROJECT_DIR / "example"  # the tiny example until you pass --data.root

    def __init__(self) -> None:
        super().__init__(files=("top.npz", "qcd.npz"), signal_class=1)
