"""{{Name}}: what ssl-core needs to know about this dataset, and nothing more.

Everything else (label and validation splits, loaders, batches, augmentations,
downloads) is ssl-core's (:mod:`ssl_core.data`).
"""

from __future__ import annotations

from pathlib import Path

from ssl_core.data import ImageFolder

PROJECT_DIR = Path(__file__).resolve().parents[2]


class {{Name}}(ImageFolder):
    """{{Name}} images and their classes."""

    name = "{{name}}"
    classes = {{classes}}  # class folder names, in label order
    channels = {{channels}}
    # Per-channel mean and std of the images in [0, 1] units: measure them on your data.
    mean = {{mean}}
    std = {{std}}
    train_dir, test_dir = "train", "test"
    splits_dir = PROJECT_DIR / "splits"  # the DVC stage's label splits
    default_root = PROJECT_DIR / "example"  # the tiny example until you pass --data.root
    # archives = {"v1": Archive(url, md5, folder)}  # to let `--data.download true` get it

    # ------------------------------------------------------------------ FILL IN
    def list_samples(self, root: Path, split: str) -> list[tuple[str, int | None]]:
        """``(path relative to root, class index or None)`` of every image of ``split``
        (``"train"`` or ``"test"``), in a fixed order; ``None``: no class is known.

        The default reads class folders, ``root/<split dir>/<class>/<image>``, as in
        ``example/``. If your files are laid out otherwise (a CSV of labels, one folder
        per plate, ...), list them here.
        """
        return super().list_samples(root, split)

    def list_unlabeled(self, root: Path) -> list[str]:
        """Paths of training images without a class: by default every image under
        ``root/unlabeled/`` (any depth). List others here (a second folder, a CSV)."""
        return super().list_unlabeled(root)
