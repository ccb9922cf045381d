"""Throughput of two-view SimCLR augmentation at 128 px: this project vs lightly.

What is measured: images per second, one process, one thread, for turning a JPEG file
into two SimCLR views, on the same fixed sample of real Imagenette training JPEGs
(``../shared/data/imagenette2-224/train``; 300 files, 30 per class, sorted) for both:

- ours: exactly the dataloader's path, ``ssl_core.data.ImageDataset.__getitem__((index,
  seed))`` with Imagenette's reader and ``ssl_core.transforms.SimCLRTransform(size=128)``:
  the per-sample reseeding of the views, OpenCV decode once, two views, each a ``uint8``
  ``(3, 128, 128)`` tensor.
- lightly: what a torchvision ``ImageFolder`` loader does, ``PIL.Image.open(path)``,
  ``.convert("RGB")``, then ``lightly.transforms.SimCLRTransform(input_size=128)``:
  two ``float32`` ``(3, 128, 128)`` tensors, already ImageNet-normalized.

Both apply the same augmentation distribution (SimCLR [0] / lightly defaults: random
resized crop scale (0.08, 1), ratio (3/4, 4/3); hflip 0.5; colour jitter p=0.8 with
brightness/contrast/saturation 0.8 and hue 0.2 in random order; grayscale 0.2; Gaussian
blur 0.5 with sigma in (0.1, 2)). The one difference is by design: our views stay
``uint8`` on the CPU and :mod:`ssl_core.data` converts and normalizes them on the device
(one elementwise op per batch there), whereas lightly's include ``ToTensor`` +
``Normalize`` on the CPU. That conversion is counted for lightly and not for us; the
printout says so. Both read the files from the same (warm) page cache.

Threads: torch, OpenCV, OMP/MKL/OpenBLAS all limited to one, as in one dataloader worker.

Usage: ``uv run --frozen python bench/augment.py [--n 300] [--repeats 5]``.
The last line is ``ratio <ours/lightly>``.

- [0] SimCLR, Chen et al. 2020, https://arxiv.org/abs/2002.05709
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import torch  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "imagenette2-224"


def sample_paths(root: Path, n: int) -> list[str]:
    """``n`` files spread evenly over the classes: the first ``n // 10`` of each, sorted."""
    from imagenette.dataset import Imagenette

    samples = Imagenette().list_samples(root, "train")
    by_class: dict[int, list[str]] = {}
    for path, label in samples:
        by_class.setdefault(label, []).append(path)
    per_class = -(-n // len(by_class))
    picked = [p for label in sorted(by_class) for p in by_class[label][:per_class]]
    return picked[:n]


def time_it(fn, n: int, repeats: int, warmup: int) -> list[float]:
    """Images per second of ``fn(i)`` over ``i in range(n)``, once per repeat."""
    for i in range(min(warmup, n)):
        fn(i)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(n):
            fn(i)
        rates.append(n / (time.perf_counter() - start))
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DATA)
    parser.add_argument("--n", type=int, default=300, help="number of JPEGs (same for both)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--size", type=int, default=128)
    args = parser.parse_args(argv)

    root = args.root.resolve()
    if not (root / "train").is_dir():
        print(f"SKIP: no Imagenette data at {root}/train (needs ../shared/data/imagenette2-224)")
        return 0

    torch.set_num_threads(1)
    cv2.setNumThreads(0)  # same setting as ssl_core.transforms: no OpenCV worker threads

    from lightly.transforms import SimCLRTransform as LightlySimCLR
    from PIL import Image

    from imagenette.dataset import Imagenette
    from ssl_core.data import ImageDataset
    from ssl_core.transforms import SimCLRTransform

    paths = sample_paths(root, args.n)
    n = len(paths)
    torch.manual_seed(0)

    dataset = ImageDataset(
        root, [(p, 0) for p in paths], Imagenette().read, SimCLRTransform(size=args.size)
    )
    seeds = torch.randint(2**31, (n,)).tolist()

    def ours(i: int):  # what a worker does for one sample the SeededSampler handed it
        return dataset[(i, seeds[i])]

    lightly_transform = LightlySimCLR(input_size=args.size)
    files = [str(root / p) for p in paths]

    def lightly_item(i: int):
        with Image.open(files[i]) as img:  # as torchvision's pil_loader
            image = img.convert("RGB")
        return lightly_transform(image)

    views = ours(0)["views"]
    ref = lightly_item(0)
    assert [tuple(v.shape) for v in views] == [(3, args.size, args.size)] * 2, views
    assert [tuple(v.shape) for v in ref] == [(3, args.size, args.size)] * 2, ref

    print(
        f"{n} JPEGs from {root / 'train'}, two views at {args.size} px, 1 thread, "
        f"{args.repeats} repeats after {args.warmup} warm-up images"
    )
    print(
        f"ours:    {views[0].dtype} views (uint8; normalized later on the device by ssl_core.data)"
    )
    print(f"lightly: {ref[0].dtype} views (ToTensor + ImageNet Normalize included, on the CPU)")

    # Interleave the two so that noise from other processes hits both alike.
    time_it(ours, args.warmup, 0, args.warmup)
    time_it(lightly_item, args.warmup, 0, args.warmup)
    rates_ours, rates_lightly = [], []
    for _ in range(args.repeats):
        rates_ours += time_it(ours, n, 1, 0)
        rates_lightly += time_it(lightly_item, n, 1, 0)

    def summary(rates: list[float]) -> str:
        return f"median {sorted(rates)[len(rates) // 2]:7.1f} img/s  (min {min(rates):.1f}, max {max(rates):.1f})"

    med_ours = sorted(rates_ours)[len(rates_ours) // 2]
    med_lightly = sorted(rates_lightly)[len(rates_lightly) // 2]
    print(f"ours     {summary(rates_ours)}")
    print(f"lightly  {summary(rates_lightly)}")
    print(f"ratio {med_ours / med_lightly:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
