"""Write Imagenette's seeded, stratified label splits (the ``imagenette-splits`` stage).

``python -m imagenette.splits --root DATA | --manifest MANIFEST --fractions 0.01 0.1 1.0
--seeds 0 1 2 --out projects/imagenette/splits``

One JSON file per fraction and seed, ``OUT/frac{f:.2f}-seed{s}.json`` (see
:mod:`ssl_core.splits`): which training images are labeled, which are not, and the
fingerprint of the training file list they were drawn from. Imagenette's official val
is the fixed test set and is in no split. The datamodule takes a split by name
(``--data.split frac0.10-seed0``) and refuses one made from other data.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from imagenette.acquire import data_root
from imagenette.dataset import Imagenette
from ssl_core.splits import make_split, split_name

SPLITS_DIR = Path(__file__).resolve().parents[2] / "splits"


def write_splits(
    root: str | Path, out: str | Path, fractions: Sequence[float], seeds: Sequence[int]
) -> list[Path]:
    """Write a split per ``(fraction, seed)`` of ``root``'s training set into ``out``."""
    train = Imagenette(root, "train")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("frac*-seed*.json"):  # a split that is no longer asked for
        stale.unlink()
    written = []
    for fraction in fractions:
        for seed in seeds:
            split = make_split("imagenette", train.paths, train.targets, fraction, seed)
            written.append(split.save(out / f"{split_name(fraction, seed)}.json"))
    return written


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--root", type=Path, help="folder with train/ and val/")
    where.add_argument("--manifest", type=Path, help="manifest.json of the data stage")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.01, 0.1, 1.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=SPLITS_DIR)
    ns = parser.parse_args(args)
    root = ns.root if ns.root is not None else data_root(ns.manifest)
    written = write_splits(root, ns.out, ns.fractions, ns.seeds)
    print(f"{len(written)} label splits of {root} written to {ns.out}")


if __name__ == "__main__":
    main()
