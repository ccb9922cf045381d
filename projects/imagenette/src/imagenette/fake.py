"""Write a tiny fake Imagenette in the real layout (tests, pipeline smoke runs).

``python -m imagenette.fake ROOT`` writes ``ROOT/train/<wnid>/*.JPEG``,
``ROOT/val/<wnid>/*.JPEG`` (ssl-core's class-dependent fake images, mixed sizes, some
grayscale) and ``ROOT/noisy_imagenette.csv``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from imagenette.dataset import NOISE_LEVELS, WNIDS
from ssl_core.data.fake import make_fake_image_folder


def make_fake_imagenette(
    root: str | Path,
    train_per_class: int = 6,
    val_per_class: int = 3,
    size: int = 48,
    seed: int = 0,
) -> Path:
    """Write the fake dataset under ``root``; return ``root``."""
    root = make_fake_image_folder(
        root, WNIDS, {"train": train_per_class, "val": val_per_class}, size, 3, ".JPEG", seed
    )
    with (root / "noisy_imagenette.csv").open("w", newline="") as f:
        columns = ["path", *(f"noisy_labels_{k}" for k in NOISE_LEVELS), "is_valid"]
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for path in sorted(root.glob("*/*/*.JPEG")):
            split, wnid, name = path.relative_to(root).parts
            c, i = WNIDS.index(wnid), int(name[-9:-5])
            row = {f"noisy_labels_{k}": wnid for k in NOISE_LEVELS}
            row["noisy_labels_50"] = WNIDS[(c + 1) % len(WNIDS)] if i % 2 else wnid
            writer.writerow({"path": f"{split}/{wnid}/{name}", **row, "is_valid": split == "val"})
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--train-per-class", type=int, default=6)
    parser.add_argument("--val-per-class", type=int, default=3)
    parser.add_argument("--size", type=int, default=48)
    args = parser.parse_args()
    make_fake_imagenette(args.root, args.train_per_class, args.val_per_class, args.size)
    print(f"fake Imagenette written to {args.root}")
