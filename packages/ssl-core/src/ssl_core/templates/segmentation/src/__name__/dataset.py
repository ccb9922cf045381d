"""{{Name}}: what ssl-core needs to know about this dataset, and nothing more.

Everything else (label and validation splits, loaders, batches, augmentations of image
and mask, downloads) is ssl-core's (:mod:`ssl_core.segmentation.data`).
"""

from __future__ import annotations

from pathlib import Path

from ssl_core.segmentation.data import SegmentationSource

PROJECT_DIR = Path(__file__).resolve().parents[2]


class {{Name}}(SegmentationSource):
    """{{Name}} images and their masks (class ids; binary masks may be 0/255)."""

    name = "{{name}}"
    class_names = {{classes}}  # class id order; 255 in a mask = ignore
    channels = {{channels}}
    # Per-channel mean and std of the images in [0, 1] units: measure them on your data.
    mean = {{mean}}
    std = {{std}}
    splits_dir = PROJECT_DIR / "splits"  # the DVC stage's label splits
    default_root = PROJECT_DIR / "example"  # the tiny example until you pass --data.root
    # archives = {"v1": Archive(url, md5, folder)}  # to let `--data.download true` get it

    # ------------------------------------------------------------------ FILL IN
    def list_samples(self, root: Path, split: str) -> list[tuple[str, str | None]]:
        """``(image path relative to root, mask reference or None)`` of every image of
        ``split`` (``"train"`` or ``"test"``), in a fixed order. An image without a
        mask (``None``) is unlabeled: semi-supervised methods learn from it, it never
        enters the validation split or the labeled set. More unlabeled images anywhere:
        put them under ``root/unlabeled/`` or override ``list_unlabeled``.

        The default reads ``root/<split>/images/<id>.png`` with
        ``root/<split>/masks/<id>.png``, as in ``example/``. If your files are laid out
        otherwise (one mask per object, a CSV, no test folder), list them here, and
        override ``read_mask`` (how a reference becomes class ids) or ``strata`` (a
        stratum per image for stratified splits) where needed.
        """
        return super().list_samples(root, split)
