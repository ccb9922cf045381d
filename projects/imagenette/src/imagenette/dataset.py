"""Imagenette (fast.ai's 10-class ImageNet subset) in its standard folder layout.

``root/train/<wnid>/*.JPEG``, ``root/val/<wnid>/*.JPEG`` (the official val: this
project's *test set*) and optionally ``root/noisy_imagenette.csv`` (fast.ai's label
file with ``noisy_labels_{0,1,5,25,50}``). Grayscale JPEGs come out as RGB.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ssl_core.data import Archive, ImageFolder

PROJECT_DIR = Path(__file__).resolve().parents[2]
WNIDS = ("n01440764", "n02102040", "n02979186", "n03000684", "n03028079")
WNIDS += ("n03394916", "n03417042", "n03425413", "n03445777", "n03888257")
CLASS_NAMES = ("tench", "English springer", "cassette player", "chain saw", "church")
CLASS_NAMES += ("French horn", "garbage truck", "gas pump", "golf ball", "parachute")
NOISE_LEVELS = (0, 1, 5, 25, 50)
BASE_URL = "https://s3.amazonaws.com/fast-ai-imageclas/"
VARIANTS = {  # variant -> (archive, md5)
    "160": ("imagenette2-160.tgz", "e793b78cc4c9e9a4ccc0c1155377a412"),
    "320": ("imagenette2-320.tgz", "3df6f0d01a2c9592104656642f5e78a3"),
    "full": ("imagenette2.tgz", "fe2fc210e6bb7c5664d602c3cd71e612"),
}


class Imagenette(ImageFolder):
    """Imagenette's classes, statistics, archives and noisy labels.

    Args:
        label_noise: Train on fast.ai's noisy labels (``noisy_labels_<N>``, percent of
            flipped labels; needs ``noisy_imagenette.csv``). 0 = the clean labels.
        base_url: Mirror of the official archives.
    """

    name = "imagenette"
    classes, class_names = WNIDS, CLASS_NAMES
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # ImageNet's
    test_dir = "val"
    extensions = (".jpeg", ".jpg", ".png")
    splits_dir = PROJECT_DIR / "splits"
    default_root = PROJECT_DIR / "data"

    def __init__(self, label_noise: int = 0, base_url: str = BASE_URL) -> None:
        super().__init__()
        if label_noise not in NOISE_LEVELS:
            raise ValueError(f"label_noise must be one of {NOISE_LEVELS}")
        self.label_noise = label_noise
        self.archives = {
            variant: Archive(base_url + name, md5, name.removesuffix(".tgz"))
            for variant, (name, md5) in VARIANTS.items()
        }

    def relabel(self, root: Path, samples: list[tuple[str, int]]) -> list[tuple[str, int]]:
        if not self.label_noise:
            return samples
        path = Path(root) / "noisy_imagenette.csv"
        if not path.is_file():
            raise FileNotFoundError(f"label_noise={self.label_noise} needs {path}")
        with path.open() as f:
            column = f"noisy_labels_{self.label_noise}"
            noisy = {row["path"]: WNIDS.index(row[column]) for row in csv.DictReader(f)}
        return [(p, noisy.get(p, label)) for p, label in samples]
