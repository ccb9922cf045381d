"""Fake multichannel series in the UEA/UCR ``.ts`` format, for examples and tests: class
``k`` is a noisy sine of ``k + 1`` cycles (every channel phase-shifted), lengths vary.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def write_fake_ts(
    path: str | Path,
    classes: Sequence[str],
    per_class: int,
    channels: int,
    lengths: tuple[int, int] = (20, 40),
    seed: int = 0,
) -> Path:
    """Write ``per_class`` series of each of ``classes`` (in label order), of ``channels``
    channels and ``lengths`` (smallest, largest) steps, to a ``.ts`` file; return its path."""
    rng = np.random.default_rng(seed)
    header = [
        "# fake series written by ssl_core.series.fake",
        f"@problemName {Path(path).stem}",
        "@timeStamps false",
        "@missing false",
        f"@univariate {'true' if channels == 1 else 'false'}",
        f"@dimensions {channels}",
        "@equalLength false",
        f"@classLabel true {' '.join(classes)}",
        "@data",
    ]
    rows = []
    for i in range(per_class * len(classes)):
        k = i % len(classes)
        t = np.linspace(0.0, 1.0, int(rng.integers(lengths[0], lengths[1] + 1)))
        clean = np.sin(2 * np.pi * (k + 1) * t[None, :] + np.arange(channels)[:, None] * 0.5)
        series = clean + 0.3 * rng.standard_normal((channels, len(t)))
        rows.append(":".join(",".join(f"{v:.4f}" for v in c) for c in series) + f":{classes[k]}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(header + rows) + "\n")
    return path


def write_fake_example(
    folder: str | Path, classes: Sequence[str], channels: int, dataset: str
) -> Path:
    """``new-project --modality series``'s example: ``<dataset>_TRAIN.ts`` (8 series per
    class) and ``<dataset>_TEST.ts`` (3 per class) in ``folder``; returns ``folder``."""
    for split, n, seed in (("TRAIN", 8, 0), ("TEST", 3, 1)):
        write_fake_ts(Path(folder) / f"{dataset}_{split}.ts", classes, n, channels, seed=seed)
    return Path(folder)
