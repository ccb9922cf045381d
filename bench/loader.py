"""Training dataloader throughput: how many images per second the workers deliver.

What is measured: the project's real training loader (``ImagenetteDataModule``, SimCLR's
two views at ``--image-size``), ``--workers`` worker processes, batches of
``--batch-size``, iterated for ``--batches`` batches (over several epochs if the data is
small) with nothing else running. The workers persist across epochs (as in training);
the first epoch (workers starting, page cache warming) is not timed, later epochs are
timed whole, so batches the workers prefetched are not counted as free. Images per
second = batch size x timed batches / timed seconds (rounded up to whole epochs).

Together with a method's GPU time per step (``bench/results_table.py --step-time``) it
says whether a GPU run is bound by the loader: a step cannot take less than
``batch_size / images_per_second``.

Usage: ``uv run --frozen python bench/loader.py --root ../shared/data/imagenette2-224
[--workers 8] [--batch-size 256] [--image-size 128] [--batches 100]``.
"""

from __future__ import annotations

import argparse
import time

from imagenette import ImagenetteDataModule
from ssl_core.data import Images


def images_per_second(
    root: str, workers: int, batch_size: int, image_size: int, batches: int
) -> float:
    """Delivered images per second of the SimCLR training loader (see module doc)."""
    dm = ImagenetteDataModule(
        root=root,
        download=False,
        modality=Images(image_size),
        batch_size=batch_size,
        num_workers=workers,
    )
    dm.setup("fit")
    loader = dm.train_dataloader()  # persistent workers: they start once, in epoch 0
    if len(loader) == 0:  # would loop forever below
        raise SystemExit(f"no full batch of {batch_size} in {root}: use a smaller batch")
    for _ in loader:  # epoch 0 (workers starting, page cache warming): not timed
        pass
    timed, seconds = 0, 0.0
    while timed < batches:  # whole epochs, first batch included: no prefetch flatters it
        start = time.perf_counter()
        timed += sum(1 for _ in loader)
        seconds += time.perf_counter() - start
    return timed * batch_size / seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="Imagenette folder (train/, val/)")
    parser.add_argument("--workers", type=int, nargs="+", default=[8])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--batches", type=int, default=100)
    opts = parser.parse_args(argv)
    for workers in opts.workers:
        ips = images_per_second(opts.root, workers, opts.batch_size, opts.image_size, opts.batches)
        print(
            f"workers {workers}: {ips:.0f} img/s (two views each), "
            f"{opts.batch_size / ips:.3f} s per batch of {opts.batch_size}",
            flush=True,
        )


if __name__ == "__main__":
    main()
