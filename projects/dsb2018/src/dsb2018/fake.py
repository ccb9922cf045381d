"""Fake DSB2018 data in the real layout, for the tests and the example
(``python -m dsb2018.fake ROOT``).

``stage1_train/<id>/images/<id>.png`` (RGBA, or grey for some fluorescence images) and
``stage1_train/<id>/masks/<mask id>.png`` (one 0/255 PNG per nucleus; nuclei may
overlap), in the three image types the real data has: fluorescence (bright nuclei on a
dark background), brightfield (dark nuclei on a light grey background) and histology
(purple nuclei on pink tissue).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from ssl_core.data.fake import write_image
from ssl_core.segmentation.data import fake_nuclei

#: Fake images of each type (the real data: mostly fluorescence).
COUNTS = {"fluorescence": 18, "brightfield": 6, "histology": 6}


def fake_id(i: int) -> str:
    """A 64-hex id as the real ones."""
    return hashlib.sha256(f"fake-{i}".encode()).hexdigest()


def fake_image(kind: str, rng: np.random.Generator, height: int, width: int):
    """An RGB ``uint8`` image of ``kind`` and its nuclei's boolean masks."""
    grey, nuclei = fake_nuclei(rng, height, width, 1)
    grey = grey[:, :, 0].astype(np.float32)
    if kind == "fluorescence":
        rgb = np.repeat(grey[:, :, None], 3, axis=2)
    elif kind == "brightfield":
        rgb = np.repeat(255.0 - 0.6 * grey[:, :, None], 3, axis=2)
    else:  # histology: eosin-pink tissue, haematoxylin-purple nuclei
        t = (grey / 255.0)[:, :, None]
        rgb = (1 - t) * np.array([235, 170, 215]) + t * np.array([110, 40, 150])
    return np.clip(rgb, 0, 255).astype(np.uint8), nuclei


def make_fake(root: str | Path, counts: dict[str, int] | None = None, size: int = 64) -> Path:
    """Write fake images and nucleus masks under ``root/stage1_train``; return ``root``.

    Every image is RGBA (alpha 255) except every third fluorescence image, stored grey;
    sizes vary by a few pixels. ``root/types.json`` records each id's image type (what
    :func:`dsb2018.dataset.image_type` must find).
    """
    import json

    root = Path(root)
    rng = np.random.default_rng(0)
    types, i = {}, 0
    for kind, n in (counts or COUNTS).items():
        for k in range(n):
            image_id = fake_id(i)
            h, w = size + (i % 3) * 8, size + (i % 2) * 16
            rgb, nuclei = fake_image(kind, rng, h, w)
            folder = root / "stage1_train" / image_id
            if kind == "fluorescence" and k % 3 == 2:
                image = rgb[:, :, :1]  # a grey file
            else:
                alpha = np.full((h, w, 1), 255, np.uint8)
                image = np.concatenate([rgb, alpha], axis=2)
            write_image(folder / "images" / f"{image_id}.png", image)
            for j, nucleus in enumerate(nuclei):
                mask = (nucleus * 255).astype(np.uint8)[:, :, None]
                write_image(folder / "masks" / f"{fake_id(10_000 * (i + 1) + j)}.png", mask)
            types[image_id] = kind
            i += 1
    (root / "types.json").write_text(json.dumps(types, indent=0, sort_keys=True) + "\n")
    return root


if __name__ == "__main__":
    print(make_fake(sys.argv[1]))
