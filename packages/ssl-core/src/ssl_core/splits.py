"""Seeded, stratified label splits and a validation split, pinned to their dataset.

Oliver et al. 2018 (arXiv:1804.09170): fixed splits per label fraction and seed, the
same labels for every method of a comparison, and every choice made on a *validation*
set carved from the training data, never on the test set. So the training images of a
dataset are divided once per split into three disjoint parts:

- ``validation``: a fixed, seeded, stratified ``val_fraction`` of the training images
  (default 10%, seed 0; the same for every label fraction and seed). Online metrics
  during ``fit`` (``val/...``) read it. It is in no split's labeled or unlabeled pool.
- ``labeled``: ``fraction`` of the rest, stratified, with their labels (which may be
  pseudo-labels, see :mod:`ssl_core.pseudolabels`);
- ``unlabeled``: the rest of the rest.

A split is determined by the training file list, ``fraction``, ``seed``,
``val_fraction`` and ``val_seed``: the DVC stage (``python -m ssl_core.splits``) writes
``frac{f:.2f}-seed{s}.json`` files, and a datamodule asked for such a name that the
project has not written makes the identical split on first use and caches it under
``$SSL_CORE_CACHE`` (default ``~/.cache/ssl-core``), keyed by the data's fingerprint:
never inside a DVC output. A split file made from other data is refused.

File format (JSON)::

    {"dataset": "imagenette", "fraction": 0.1, "seed": 0,
     "fingerprint": "<sha256 of the sorted training file list>", "num_images": 9469,
     "labeled": [["train/n01440764/x.JPEG", 0], ...], "unlabeled": ["train/...", ...],
     "validation": ["train/...", ...], "val_fraction": 0.1, "val_seed": 0,
     "source": "how it was made"}
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

NAME = re.compile(r"^frac(?P<fraction>\d+(?:\.\d+)?)-seed(?P<seed>\d+)$")


class SplitMismatchError(ValueError):
    """A split does not belong to the dataset it is used with."""


def fingerprint(paths: Sequence[str]) -> str:
    """sha256 of the sorted relative file list: identifies a dataset's training set."""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.encode())
        h.update(b"\n")
    return h.hexdigest()


@dataclass
class LabelSplit:
    """Labeled / unlabeled / validation partition of a training set.

    Args:
        dataset: Dataset name.
        fraction: Fraction of the non-validation training images labeled (1.0 = all).
        seed: Seed of the labeled draw.
        fingerprint: :func:`fingerprint` of the training file list it was drawn from.
        num_images: Size of that training set.
        labeled: ``(path, label)`` pairs.
        unlabeled: Paths without labels.
        validation: Paths of the validation split (labels come from the dataset).
        val_fraction: Share of the training images in ``validation``.
        val_seed: Seed of the validation draw.
        source: How the split was made (e.g. ``stratified`` or ``pseudo-labels of ...``).
    """

    dataset: str
    fraction: float
    seed: int
    fingerprint: str
    num_images: int
    labeled: list[tuple[str, int]] = field(default_factory=list)
    unlabeled: list[str] = field(default_factory=list)
    validation: list[str] = field(default_factory=list)
    val_fraction: float = 0.0
    val_seed: int = 0
    source: str = "stratified"

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        data["labeled"] = [[p, int(y)] for p, y in self.labeled]
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(data, indent=0) + "\n")
        tmp.replace(path)  # atomic: two processes making the same split never mix
        return path

    @classmethod
    def load(cls, path: str | Path) -> LabelSplit:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"No label split file {path}")
        data = json.loads(path.read_text())
        if "validation" not in data:
            raise SplitMismatchError(
                f"Label split {path} predates validation splits (its labeled and unlabeled "
                "pools may hold validation images): remake it (dvc repro, or `python -m "
                "ssl_core.splits`), or name it frac<F>-seed<S> to have it made on first use."
            )
        data["labeled"] = [(p, int(y)) for p, y in data["labeled"]]
        return cls(**data)

    def check(self, paths: Sequence[str], name: str = "") -> None:
        """Refuse a split made from another dataset (file list) than ``paths``."""
        actual = fingerprint(paths)
        if actual != self.fingerprint:
            raise SplitMismatchError(
                f"Label split {name or self.dataset} was made from another dataset: its "
                f"fingerprint {self.fingerprint[:12]}... ({self.num_images} images) does not "
                f"match this training set's {actual[:12]}... ({len(paths)} images). Remake "
                "the splits for this data (dvc repro) or point to the data they were made from."
            )


def _check_members(split: LabelSplit, paths: Sequence[str], name: Path) -> None:
    """Refuse a split whose files are not all training images of the data (an edited
    or hand-made file: the fingerprint covers the list it was drawn from, not its pools)."""
    known = set(paths)
    members = [p for p, _ in split.labeled] + list(split.unlabeled) + list(split.validation)
    outside = [p for p in members if p not in known]
    if outside:
        raise SplitMismatchError(
            f"Label split {name} names {len(outside)} files that are not in the training "
            f"images of this data (e.g. {outside[:3]}): fix or remake the split."
        )


def split_name(fraction: float, seed: int) -> str:
    """Canonical name of a split: ``frac0.10-seed0``."""
    return f"frac{fraction:.2f}-seed{seed}"


def _draw(
    indices: np.ndarray, labels: np.ndarray | None, size: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``size`` of ``indices`` (stratified by ``labels`` where every class can keep a
    share) and the rest, with scikit-learn's ``train_test_split``."""
    if size >= len(indices):
        return indices, indices[:0]
    stratify = None
    if labels is not None:
        classes, counts = np.unique(labels[indices], return_counts=True)
        if counts.min() >= 2 and len(classes) <= min(size, len(indices) - size):
            stratify = labels[indices]
    chosen, rest = train_test_split(indices, train_size=size, stratify=stratify, random_state=seed)
    return np.sort(chosen), np.sort(rest)


def make_validation(
    paths: Sequence[str], labels: Sequence[int] | None, fraction: float = 0.1, seed: int = 0
) -> list[str]:
    """The validation split: a seeded, stratified ``fraction`` of the training images
    (at least one per class where the data allows), sorted."""
    if not 0 <= fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), not {fraction}")
    order = np.argsort(paths)
    paths = [paths[i] for i in order]
    y = None if labels is None else np.asarray(labels)[order]
    if fraction == 0 or len(paths) < 2:
        return []
    n_classes = 1 if y is None else len(np.unique(y))
    size = min(max(int(round(fraction * len(paths))), n_classes), len(paths) - 1)
    chosen, _ = _draw(np.arange(len(paths)), y, size, seed)
    return [paths[i] for i in chosen]


def make_split(
    dataset: str,
    paths: Sequence[str],
    labels: Sequence[int],
    fraction: float,
    seed: int,
    val_fraction: float = 0.1,
    val_seed: int = 0,
) -> LabelSplit:
    """Carve the validation split, then draw ``fraction`` of the rest as labeled.

    Stratified by class (scikit-learn); at least one labeled image per class.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], not {fraction}")
    order = np.argsort(paths)
    paths = [paths[i] for i in order]
    y = np.asarray([int(labels[i]) for i in order])
    validation = set(make_validation(paths, y, val_fraction, val_seed))
    pool = np.array([i for i, p in enumerate(paths) if p not in validation], dtype=np.int64)
    n_classes = len(np.unique(y[pool])) if len(pool) else 0
    size = max(int(round(fraction * len(pool))), n_classes) if fraction < 1 else len(pool)
    lab_idx, unl_idx = _draw(pool, y, size, seed)
    return LabelSplit(
        dataset=dataset,
        fraction=float(fraction),
        seed=int(seed),
        fingerprint=fingerprint(paths),
        num_images=len(paths),
        labeled=[(paths[i], int(y[i])) for i in lab_idx],
        unlabeled=[paths[i] for i in unl_idx],
        validation=sorted(validation),
        val_fraction=float(val_fraction),
        val_seed=int(val_seed),
    )


def cache_dir() -> Path:
    """Where splits made on first use are kept (``$SSL_CORE_CACHE/splits``)."""
    root = os.environ.get("SSL_CORE_CACHE") or Path.home() / ".cache" / "ssl-core"
    return Path(root) / "splits"


def resolve_split(
    split: str,
    dataset: str,
    paths: Sequence[str],
    labels: Sequence[int],
    splits_dir: Path | None = None,
    val_fraction: float = 0.1,
    val_seed: int = 0,
) -> LabelSplit:
    """The label split ``split`` of the training set ``paths``, checked against it.

    ``split`` is a path to a split file, or a name: ``splits_dir/<name>.json`` when the
    project has written it for this data, else a ``frac<F>-seed<S>`` name is made now
    (and cached, see the module docstring).

    Raises:
        SplitMismatchError: an explicit file made from other data.
        FileNotFoundError: an unknown name that is no ``frac<F>-seed<S>``.
    """
    path = Path(split)
    explicit = path.suffix == ".json" or path.exists()
    if not explicit and splits_dir is not None:
        path = Path(splits_dir) / f"{split}.json"
    match = NAME.match(split) if not explicit else None
    if path.is_file():
        label_split = LabelSplit.load(path)
        if not match or label_split.fingerprint == fingerprint(paths):
            label_split.check(paths, name=str(path))
            _check_members(label_split, paths, path)
            return label_split
    if not match:
        available = sorted(p.stem for p in Path(splits_dir).glob("*.json")) if splits_dir else []
        raise FileNotFoundError(
            f"No label split {split!r} ({path}). Available: {available or 'none'}; a split "
            "named frac<F>-seed<S> (e.g. frac0.10-seed0) is made on first use."
        )
    fraction, seed = float(match["fraction"]), int(match["seed"])
    key = f"{fingerprint(paths)[:16]}-val{val_fraction:g}-{val_seed}"
    cached = cache_dir() / dataset / key / f"{split_name(fraction, seed)}.json"
    if cached.is_file():
        return LabelSplit.load(cached)
    label_split = make_split(dataset, paths, labels, fraction, seed, val_fraction, val_seed)
    label_split.save(cached)
    return label_split


def describe(split: str | None) -> dict:
    """``split`` (name), ``fraction``, ``seed`` and ``num_labeled`` of a label split: from
    its file when ``split`` is a path to one, else what its name says (``frac0.10-seed0``;
    ``None`` where the name does not say)."""
    if split is None:
        return {"split": None, "fraction": 1.0, "seed": None, "num_labeled": None}
    path = Path(split)
    if path.is_file():
        label_split = LabelSplit.load(path)
        return {
            "split": path.stem,
            "fraction": label_split.fraction,
            "seed": label_split.seed,
            "num_labeled": len(label_split.labeled),
        }
    name = path.name.removesuffix(".json")
    match = NAME.match(name)
    return {
        "split": name,
        "fraction": float(match["fraction"]) if match else None,
        "seed": int(match["seed"]) if match else None,
        "num_labeled": None,
    }


def write_splits(
    dataset: str,
    paths: Sequence[str],
    labels: Sequence[int],
    out: str | Path,
    fractions: Sequence[float],
    seeds: Sequence[int],
    val_fraction: float = 0.1,
    val_seed: int = 0,
) -> list[Path]:
    """Write a split per ``(fraction, seed)`` into ``out`` (stale ones removed)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("frac*-seed*.json"):  # a split that is no longer asked for
        stale.unlink()
    return [
        make_split(dataset, paths, labels, f, s, val_fraction, val_seed).save(
            out / f"{split_name(f, s)}.json"
        )
        for f in fractions
        for s in seeds
    ]


def main(args: list[str] | None = None) -> None:
    """``python -m ssl_core.splits --project P (--root DATA | --manifest M) --out DIR``:
    the splits DVC stage of any project."""
    from ssl_core.acquire import data_root
    from ssl_core.project import project_source, resolve_project

    parser = argparse.ArgumentParser(description="Write a project's seeded label splits.")
    parser.add_argument("--project", required=True)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--root", type=Path, help="the data root")
    where.add_argument("--manifest", type=Path, help="manifest.json of the data stage")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.01, 0.1, 1.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--val-seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    ns = parser.parse_args(args)
    project = resolve_project(ns.project)
    source = project_source(project)
    root = ns.root if ns.root is not None else data_root(ns.manifest)
    samples = source.list_samples(root, "train")
    # Classification stratifies by class; a segmentation source gives a stratum per image.
    strata = getattr(source, "strata", None)
    labels = strata(root, samples) if callable(strata) else [y for _, y in samples]
    written = write_splits(
        source.name,
        [p for p, _ in samples],
        labels,
        ns.out,
        ns.fractions,
        ns.seeds,
        ns.val_fraction,
        ns.val_seed,
    )
    print(f"{len(written)} label splits of {root} written to {ns.out}")


if __name__ == "__main__":
    main()
