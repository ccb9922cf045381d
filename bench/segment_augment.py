"""Throughput of a semi-supervised segmentation sample: ours vs a UniMatch-style pipeline.

What is measured: samples per second, one process, one thread, for turning an image
file and its mask file into a weak view and two strong views of a 256 px crop with the
mask (the unlabeled sample of UniMatch; FixMatch uses one strong view), on the same real
DSB2018 images (``../shared/data/dsb2018-stage1-train``; ``--n`` images, sorted ids):

- ours: ``ssl_core.data.read_image`` (OpenCV; RGBA -> RGB) for the image, OpenCV for the
  mask, then ``ssl_core.segmentation.transforms.SegWeakStrongTransform(size=256,
  strong_views=2)`` reseeded per sample as the dataloader does: crop (padded where the
  image is smaller, mask 255 there), flips/rot90 drawn once for image and mask, then per
  strong view its own colour jitter (p 0.8), greyscale (p 0.2) and blur (p 0.5): ``uint8``
  tensors (normalized later, on the device).
- reference: what UniMatch's ``dataset/transform.py`` + ``semi.py`` do with PIL and
  torchvision: ``Image.open(...).convert("RGB")``, the mask as a PIL image, random crop
  with padding (``ImageOps.expand``), horizontal flip, then per strong view a
  ``deepcopy`` and ``ColorJitter(0.5, 0.5, 0.5, 0.25)`` p 0.8, ``RandomGrayscale(0.2)``,
  PIL Gaussian blur p 0.5, then ``ToTensor`` + ``Normalize`` for each view and the mask
  as a tensor.

The same operations (the reference has no vertical flip/rot90; ours draws them: a little
more work for ours). Each image's nuclei masks are merged into one mask file per image
first, outside the timing, so both read one image file and one mask file.

Usage: ``uv run --frozen python bench/segment_augment.py [--n 100] [--repeats 3]``;
the last two lines are ``ratio <ours/reference>``: the median over repeats of each
repeat's ratio in wall-clock time, then in CPU time (the steadier on a shared machine),
the two taking turns every 5 samples. A second part measures whole-image inference memory on the largest image
(``--memory``).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import copy  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "dsb2018-stage1-train"


def merged_masks(root: Path, ids: list[str], out: Path) -> list[Path]:
    """One PNG per image: the union of its nuclei masks (0/1)."""
    paths = []
    for image_id in ids:
        union = None
        for mask_file in sorted((root / "stage1_train" / image_id / "masks").glob("*.png")):
            m = cv2.imread(str(mask_file), cv2.IMREAD_GRAYSCALE) > 0
            union = m if union is None else union | m
        path = out / f"{image_id}.png"
        cv2.imwrite(str(path), union.astype(np.uint8))
        paths.append(path)
    return paths


def reference_sample(image_path: Path, mask_path: Path, size: int):
    """UniMatch-style: PIL + torchvision (dataset/transform.py and semi.py)."""
    from PIL import Image, ImageFilter, ImageOps
    from torchvision import transforms as T

    img = Image.open(image_path).convert("RGB")
    mask = Image.open(mask_path)
    w, h = img.size  # crop with padding (mask padded with 255 = ignore)
    pad_w, pad_h = max(size - w, 0), max(size - h, 0)
    if pad_w or pad_h:
        img = ImageOps.expand(img, border=(0, 0, pad_w, pad_h), fill=0)
        mask = ImageOps.expand(mask, border=(0, 0, pad_w, pad_h), fill=255)
    w, h = img.size
    x, y = random.randint(0, w - size), random.randint(0, h - size)
    img, mask = img.crop((x, y, x + size, y + size)), mask.crop((x, y, x + size, y + size))
    if random.random() < 0.5:
        img, mask = img.transpose(Image.FLIP_LEFT_RIGHT), mask.transpose(Image.FLIP_LEFT_RIGHT)
    normalize = T.Compose([T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    strong = []
    for _ in range(2):
        s = copy.deepcopy(img)
        if random.random() < 0.8:
            s = T.ColorJitter(0.5, 0.5, 0.5, 0.25)(s)
        s = T.RandomGrayscale(p=0.2)(s)
        if random.random() < 0.5:
            s = s.filter(ImageFilter.GaussianBlur(radius=random.uniform(0.1, 2.0)))
        strong.append(normalize(s))
    return normalize(img), strong, torch.from_numpy(np.array(mask)).long()


def interleaved(fns, n: int, repeats: int, chunk: int = 5) -> list[list[tuple[float, float]]]:
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


def memory(root: Path) -> None:
    """Peak RSS of whole-image inference (U-Net, ResNet-18 encoder) on the largest image."""
    import resource

    from ssl_core.data import read_image
    from ssl_core.segmentation import SupervisedSegmentation

    images = sorted((root / "stage1_train").glob("*/images/*.png"))
    largest = max(images, key=lambda p: np.prod(cv2.imread(str(p)).shape[:2]))
    image = read_image(largest, 3)
    model = SupervisedSegmentation(arch="unet", encoder_name="resnet18").eval()
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    out = model.predict_probabilities(x)  # padded to the stride, cropped back
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(
        f"whole-image inference on {largest.name} {image.shape[1]}x{image.shape[0]}: "
        f"output {tuple(out.shape)}, peak RSS {peak:.2f} GiB (limit 4 GiB)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DATA)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--memory", action="store_true", help="only the inference memory")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "stage1_train").is_dir():
        print(
            f"SKIP: no DSB2018 at {root}/stage1_train (needs ../shared/data/dsb2018-stage1-train)"
        )
        return 0
    torch.set_num_threads(1)
    cv2.setNumThreads(0)
    if args.memory:
        memory(root)
        return 0

    from ssl_core.data import read_image
    from ssl_core.segmentation.transforms import SegWeakStrongTransform

    ids = sorted(p.name for p in (root / "stage1_train").iterdir() if p.is_dir())[: args.n]
    images = [root / "stage1_train" / i / "images" / f"{i}.png" for i in ids]
    with tempfile.TemporaryDirectory() as tmp:
        masks = merged_masks(root, ids, Path(tmp))
        transform = SegWeakStrongTransform(size=args.size, channels=3, strong_views=2)
        seeds = torch.randint(2**31, (len(ids),)).tolist()

        def ours(i: int):
            transform.set_random_seed(seeds[i])
            image = read_image(images[i], 3)
            mask = cv2.imread(str(masks[i]), cv2.IMREAD_GRAYSCALE)
            return transform(image, mask)

        def reference(i: int):
            return reference_sample(images[i], masks[i], args.size)

        sample = ours(0)
        print(
            f"{len(ids)} DSB2018 images, {args.size} px crops, weak + 2 strong views + mask, "
            f"1 thread, {args.repeats} repeats"
        )
        print(f"ours:      {[tuple(v.shape) for v in sample['views']]} uint8 views")
        interleaved([ours, reference], min(10, len(ids)), 1)  # warm-up
        rates_ours, rates_ref = interleaved([ours, reference], len(ids), args.repeats)
    ours_, ref_ = np.array(rates_ours), np.array(rates_ref)  # (repeats, [wall, cpu])
    for clock, name in ((0, "wall-clock"), (1, "CPU time")):
        print(f"{name}:")
        for who, rates in (("ours     ", ours_[:, clock]), ("reference", ref_[:, clock])):
            print(
                f"  {who} median {np.median(rates):7.1f} samples/s "
                f"(min {rates.min():.1f}, max {rates.max():.1f})"
            )
    ratios = np.median(ours_ / ref_, axis=0)
    print(f"ratio {ratios[0]:.2f}  (median of the repeats' wall-clock ratios)")
    print(f"ratio {ratios[1]:.2f}  (the same in CPU time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
