"""Write a tiny fake Imagenette in the real layout (tests, pipeline smoke runs).

``python -m imagenette.fake ROOT`` writes ``ROOT/train/<wnid>/*.JPEG``,
``ROOT/val/<wnid>/*.JPEG`` and ``ROOT/noisy_imagenette.csv``. Images are random but
class-dependent (each class has its own mean colour), of mixed sizes, some grayscale,
so that loaders are exercised as by the real data and a model can learn something.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np

from imagenette.dataset import NOISE_LEVELS, WNIDS


def make_fake_imagenette(
    root: str | Path,
    train_per_class: int = 6,
    val_per_class: int = 3,
    size: int = 48,
    seed: int = 0,
) -> Path:
    """Write the fake dataset under ``root``; return ``root``."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    rows = []
    for split, n in (("train", train_per_class), ("val", val_per_class)):
        for c, wnid in enumerate(WNIDS):
            folder = root / split / wnid
            folder.mkdir(parents=True, exist_ok=True)
            colour = np.array([(c * 25) % 256, (c * 70) % 256, (255 - c * 25) % 256], np.float32)
            for i in range(n):
                h, w = size + (i % 3) * 8, size + (i % 2) * 12  # mixed sizes
                image = np.clip(colour + rng.normal(0, 40, (h, w, 3)), 0, 255).astype(np.uint8)
                name = f"{wnid}_{i:04d}.JPEG"
                if i == 1:  # some grayscale JPEGs, as in the real data
                    image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
                    cv2.imwrite(str(folder / name), image)
                else:
                    cv2.imwrite(str(folder / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
                noisy = {f"noisy_labels_{k}": wnid for k in NOISE_LEVELS}
                noisy["noisy_labels_50"] = WNIDS[(c + 1) % len(WNIDS)] if i % 2 else wnid
                rows.append({"path": f"{split}/{wnid}/{name}", **noisy, "is_valid": split == "val"})
    with (root / "noisy_imagenette.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
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
