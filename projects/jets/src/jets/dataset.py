"""Jets: what ssl-core needs to know about these jets, and nothing more.

Everything else (test, label and validation splits, loaders, batched augmentations,
normalization) is ssl-core's (:mod:`ssl_core.data` with the :class:`~ssl_core.points.Points` modality).
"""

from __future__ import annotations

from pathlib import Path

from ssl_core.points import JetFiles

PROJECT_DIR = Path(__file__).resolve().parents[2]


class Jets(JetFiles):
    """The jets: ``top.npz`` (signal, label 1) and ``qcd.npz`` (label 0) under the
    data root; ids ``top.npz:17`` (file and row) are what split files name."""

    name = "jets"
    class_names = ("qcd", "top")  # label order
    splits_dir = PROJECT_DIR / "splits"  # the DVC stage's label splits
    # the shared Pythia 8 jets (source in projects/jets/params.yaml); example/ holds fake
    # jets in the same layout (--data.root projects/jets/example)
    default_root = PROJECT_DIR.parents[1] / ".." / "shared" / "data" / "jets-pythia8-top-qcd"

    def __init__(self) -> None:
        super().__init__(files=("top.npz", "qcd.npz"), signal_class=1)
