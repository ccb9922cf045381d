"""Throughput of two-view SimCLR augmentation at 128 px: this project vs lightly.

What is measured: images per second, one process, one thread, for turning a JPEG file
into two SimCLR views, on the same fixed sample of real Imagenette training JPEGs
(``../shared/data/imagenette2-224/train``; 300 files, 30 per class, sorted) for both:

- ours: exactly the dataloader's path, ``ssl_core.data.SampleDataset.__getitem__((index,
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
The last two lines are ``ratio <ours/lightly>``: the median over repeats of each repeat's
ratio in wall-clock time, then in CPU time (what an idle machine would show; the
steadier one on a shared machine), the two taking turns every 10 images.

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


def interleaved(fns, n: int, repeats: int, chunk: int = 10) -> list[list[tuple[float, float]]]:
    """``(wall, cpu)`` items per second of each ``fn(i)`` over ``i in range(n)``, once per
    repeat, the functions taking turns every ``chunk`` items so that the load of other
    processes hits them alike. CPU time (this process's) is what an idle machine's wall
    clock would show for one thread: on a shared machine it is the steadier of the two."""
    rates: list[list[tuple[float, float]]] = [[] for _ in fns]
    for _ in range(repeats):
        totals = [[0.0, 0.0] for _ in fns]
        for start in range(0, n, chunk):
            for k, fn in enumerate(fns):
                wall, cpu = time.perf_counter(), time.process_time()
                for i in range(start, min(start + chunk, n)):
                    fn(i)
                totals[k][0] += time.perf_counter() - wall
                totals[k][1] += time.process_time() - cpu
        for k, (wall, cpu) in enumerate(totals):
            rates[k].append((n / wall, n / cpu))
    return rates


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


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
    from ssl_core.data import SampleDataset
    from ssl_core.transforms import SimCLRTransform

    paths = sample_paths(root, args.n)
    n = len(paths)
    torch.manual_seed(0)

    dataset = SampleDataset(
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

    interleaved([ours, lightly_item], args.warmup, 1)  # warm-up
    rates_ours, rates_lightly = interleaved([ours, lightly_item], n, args.repeats)

    def summary(rates: list[tuple[float, float]], clock: int) -> str:
        r = [rate[clock] for rate in rates]
        return f"median {median(r):7.1f} img/s  (min {min(r):.1f}, max {max(r):.1f})"

    for clock, name in ((0, "wall-clock"), (1, "CPU time")):
        print(f"{name}:")
        print(f"  ours     {summary(rates_ours, clock)}")
        print(f"  lightly  {summary(rates_lightly, clock)}")
    ratios = [[a[c] / b[c] for a, b in zip(rates_ours, rates_lightly, strict=True)] for c in (0, 1)]
    print(f"ratio {median(ratios[0]):.2f}  (median of the repeats' wall-clock ratios)")
    print(f"ratio {median(ratios[1]):.2f}  (the same in CPU time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
