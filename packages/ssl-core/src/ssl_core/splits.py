"""Seeded, stratified label splits and a validation split, pinned to their dataset.

Oliver et al. 2018 (arXiv:1804.09170): fixed splits per label fraction and seed, the same
for every method, and every choice made on a validation set carved from the training
data. The parts, the names and the file format: docs/pipelines.md, "Splits"."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ssl_core.errors import BadInputError, MissingInputError, exits_on_input_errors
from ssl_core.manifest import cache_dir, data_root, fingerprint, write_atomic

__all__ = ["LabelSplit", "SplitMismatchError", "cache_dir", "fingerprint", "make_split"]

MADE_ON_USE = re.compile(
    r"^(?:frac(?P<fraction>\d+(?:\.\d+)?)|n(?P<count>\d+))-seed(?P<seed>\d+)"
    r"(?:-(?P<tag>[A-Za-z0-9_.]+))?$|^(?P<all>all)$"
)


class SplitMismatchError(BadInputError):
    """A split does not belong to the dataset it is used with."""


def changes(old: LabelSplit, paths: Sequence[str], free: Sequence[str] = ()) -> str:
    """What differs between the samples with targets ``old`` was drawn from and
    ``paths`` (today's; ``free``: today's samples without targets), in a few words."""
    known = {p for p, _ in old.labeled} | set(old.validation) | set(old.unlabeled)
    now, free = set(paths), set(free)
    drawn_from = known - (free - now)  # old.unlabeled also held the samples without targets
    added, removed = sorted(now - drawn_from), sorted(drawn_from - now)
    parts = [
        f"{len(found)} {what} (e.g. {', '.join(found[:3])})"
        for found, what in ((added, "added"), (removed, "removed or without a target now"))
        if found
    ]
    return (
        f"{old.num_images} samples with targets then, {len(paths)} now: "
        f"{'; '.join(parts) or 'targets changed'}"
    )


@dataclass
class LabelSplit:
    """Labeled / unlabeled / validation partition of a training set: the fields of the
    file format (docs/pipelines.md, "Splits"; ``fraction``: the labeled share of the pool)."""

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
    count: int | None = None

    def save(self, path: str | Path) -> Path:
        data = asdict(self)
        data["labeled"] = [[p, int(y)] for p, y in self.labeled]
        return write_atomic(path, json.dumps(data, indent=0) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> LabelSplit:
        path = Path(path)
        if not path.is_file():
            raise MissingInputError(f"No label split file {path}")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise SplitMismatchError(f"Label split {path} is not JSON ({err}): remake it") from None
        if "validation" not in data:
            raise SplitMismatchError(
                f"Label split {path} predates validation splits (its labeled and unlabeled "
                "pools may hold validation images): remake it (dvc repro, or `python -m "
                "ssl_core.splits`), or name it frac<F>-seed<S> to have it made on first use."
            )
        data["labeled"] = [(p, int(y)) for p, y in data["labeled"]]
        return cls(**data)

    def check(self, paths: Sequence[str], unlabeled: Sequence[str] = (), name: str = "") -> None:
        """Refuse a split made from other data: another list of samples with targets
        (``paths``), or naming samples that are not in the data (an edited file)."""
        name = name or self.dataset
        actual = fingerprint(paths)
        if actual != self.fingerprint:
            raise SplitMismatchError(
                f"Label split {name} was made from another dataset (fingerprint "
                f"{self.fingerprint[:12]}, this data's {actual[:12]}; "
                f"{changes(self, paths, unlabeled)}). Remake the splits for this data "
                "(dvc repro) or point to the data they were made from."
            )
        known, free = set(paths), set(unlabeled)
        outside = [p for p, _ in self.labeled if p not in known]
        outside += [p for p in self.validation if p not in known]
        outside += [p for p in self.unlabeled if p not in known and p not in free]
        if outside:
            raise SplitMismatchError(
                f"Label split {name} names {len(outside)} samples that are not in the "
                f"training images of this data (or lack a target there), e.g. "
                f"{outside[:3]}: fix or remake it."
            )


def split_name(fraction: float, seed: int, count: int | None = None) -> str:
    """Canonical name of a split: ``frac0.10-seed0``, or ``n50-seed0`` by count."""
    return f"n{count}-seed{seed}" if count is not None else f"frac{fraction:.2f}-seed{seed}"


def _draw(
    indices: np.ndarray, labels: np.ndarray | None, size: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``size`` of ``indices`` (stratified by ``labels`` where every class can keep a
    share) and the rest, with scikit-learn's ``train_test_split``."""
    from sklearn.model_selection import train_test_split

    if size >= len(indices) or size == 0:
        return (indices, indices[:0]) if size else (indices[:0], indices)
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
    """The validation split: a seeded, stratified ``fraction`` of ``paths`` (the samples
    with targets; at least one per class where the data allows), sorted."""
    if not 0 <= fraction < 1:
        raise BadInputError(f"val_fraction must be in [0, 1), not {fraction}")
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
    fraction: float = 1.0,
    seed: int = 0,
    val_fraction: float = 0.1,
    val_seed: int = 0,
    count: int | None = None,
    unlabeled: Sequence[str] = (),
) -> LabelSplit:
    """Carve the validation split from ``paths`` (the samples with targets), then draw
    ``fraction`` (1.0: all) or ``count`` of the rest as labeled, stratified by ``labels``;
    at least one per class by fraction. ``unlabeled`` join the unlabeled pool."""
    if count is None and not 0 < fraction <= 1:
        raise BadInputError(f"fraction must be in (0, 1], not {fraction}")
    order = np.argsort(paths)
    paths = [paths[i] for i in order]
    y = np.asarray([int(labels[i]) for i in order], dtype=np.int64)
    validation = set(make_validation(paths, y, val_fraction, val_seed))
    pool = np.array([i for i, p in enumerate(paths) if p not in validation], dtype=np.int64)
    n_classes = len(np.unique(y[pool])) if len(pool) else 0
    if count is not None:
        if not 0 < count <= len(pool):
            raise BadInputError(
                f"Split {split_name(fraction, seed, count)} asks for {count} labeled samples; "
                f"{dataset} has {len(pool)} with targets outside the validation split"
            )
        if count < n_classes:  # a draw this small cannot label every class
            raise BadInputError(
                f"Split {split_name(fraction, seed, count)} asks for {count} labeled samples "
                f"but the data has {n_classes} classes: some class would have no label; use "
                f"a count >= {n_classes} (n{n_classes}-seed{seed}) or a frac split (e.g. "
                f"frac0.10-seed{seed}: at least one label per class)"
            )
        size = count
    else:
        size = max(int(round(fraction * len(pool))), n_classes) if fraction < 1 else len(pool)
    lab_idx, unl_idx = _draw(pool, y, size, seed)
    free = sorted(set(unlabeled) - set(paths))
    return LabelSplit(
        dataset=dataset,
        fraction=float(fraction if count is None else count / len(pool)),
        seed=int(seed),
        fingerprint=fingerprint(paths),
        num_images=len(paths),
        labeled=[(paths[i], int(y[i])) for i in lab_idx],
        unlabeled=[paths[i] for i in unl_idx] + free,
        validation=sorted(validation),
        val_fraction=float(val_fraction),
        val_seed=int(val_seed),
        count=count,
    )


def parse_split_name(name: str) -> dict | None:
    """``make_split``'s ``fraction``/``count``/``seed`` of a split name that is made on
    first use (``frac0.10-seed0``, ``n50-seed0``, ``all``; a tag after the seed,
    ``n50-seed0-v2``, names another binding of the same rule); ``None`` for other names."""
    match = MADE_ON_USE.match(name)
    if not match:
        return None
    if match["all"]:
        return {"fraction": 1.0, "seed": 0}
    if match["count"]:
        return {"fraction": 1.0, "count": int(match["count"]), "seed": int(match["seed"])}
    return {"fraction": float(match["fraction"]), "seed": int(match["seed"])}


def resolve_split(
    split: str,
    dataset: str,
    paths: Sequence[str],
    labels: Sequence[int],
    splits_dir: Path | None = None,
    val_fraction: float = 0.1,
    val_seed: int = 0,
    unlabeled: Sequence[str] = (),
    root: Path | None = None,
    redraw: bool = False,
    say: Callable[[str], None] = print,
) -> LabelSplit:
    """The label split ``split`` (a path, or a name: ``splits_dir/<name>.json`` when
    written for this data, else made on first use and bound to ``root``) of the samples
    with targets ``paths``, checked against them; ``unlabeled`` join its unlabeled pool.

    Raises:
        SplitMismatchError: a file made from other data, or a name bound at ``root`` to a
            draw from other samples (unless ``redraw``; ``say`` is told of new draws).
        MissingInputError: an unknown name.
        BadInputError: more labeled samples asked for than there are, or fewer than classes.
    """
    path = Path(split)
    explicit = path.suffix == ".json" or path.exists()
    if not explicit and splits_dir is not None:
        path = Path(splits_dir) / f"{split}.json"
    made = parse_split_name(split) if not explicit else None
    drawn = {"val_fraction": val_fraction, "val_seed": val_seed, "unlabeled": unlabeled}
    label_split, other = None, ""
    if path.is_file() and split != "all":
        label_split = LabelSplit.load(path)
        if made and label_split.fingerprint != fingerprint(paths):  # for other data
            other = f"{path} was made from other data ({changes(label_split, paths, unlabeled)})"
            label_split = None
        else:
            label_split.check(paths, unlabeled, name=str(path))
    if label_split is None and made is None:
        available = sorted(p.stem for p in Path(splits_dir).glob("*.json")) if splits_dir else []
        where = f" ({path})" if str(path) != split else ""
        raise MissingInputError(
            f"No label split {split!r}{where}. Available: {available or 'none'}; a split "
            "named all, frac<F>-seed<S> or n<K>-seed<S> (e.g. frac0.10-seed0; a tag after "
            "it, n8-seed0-v2, for another draw of the same rule) is made on first use."
        )
    if label_split is None and split == "all":
        label_split = make_split(dataset, paths, labels, **made, **drawn)
    elif label_split is None:  # made on first use, kept under its binding
        where = str(Path(root).resolve()) if root is not None else "(no root)"
        key = hashlib.sha256(where.encode()).hexdigest()[:16]
        cached = cache_dir() / dataset / f"{key}-val{val_fraction:g}-{val_seed}" / f"{split}.json"
        bound = LabelSplit.load(cached) if cached.is_file() else None
        if bound is not None and bound.fingerprint == fingerprint(paths):
            label_split = bound
        elif bound is not None and not redraw:
            raise SplitMismatchError(
                f"Split {split} of {dataset} at {where} was drawn from other samples with "
                f"targets ({changes(bound, paths, unlabeled)}): a name means one draw. Use "
                f"a new name (e.g. {split}-v2) or redraw {split} for this data with "
                "--data.redraw_split true (runs on the old draw are then not comparable)."
            )
        elif bound is not None:
            say(f"split {split}: redrawn at {where} ({changes(bound, paths, unlabeled)})")
        elif other or (root is not None and any((cache_dir() / dataset).glob(f"*/{split}.json"))):
            other = f"{other}; " if other else "another root has its own; "
            n = len(paths)
            say(f"split {split}: {other}{where} gets its own draw ({n} samples with targets)")
        if label_split is None:
            label_split = make_split(dataset, paths, labels, **made, **drawn)
            label_split.save(cached)
    known = set(label_split.unlabeled)
    label_split.unlabeled += [p for p in unlabeled if p not in known]
    return label_split


def describe(split: str | None) -> dict:
    """``split`` (name), ``fraction`` (the labeled share of the pool), ``count`` (``n<K>``
    splits), ``seed`` and ``num_labeled`` of a label split: from its file when ``split``
    is a path to one, else what its name says (``None`` where it does not say)."""
    if split is None:
        return {"split": None, "fraction": 1.0, "count": None, "seed": None, "num_labeled": None}
    path = Path(split)
    if path.is_file():
        s = LabelSplit.load(path)
        name, fraction, count, seed, n = path.stem, s.fraction, s.count, s.seed, len(s.labeled)
    else:
        name = path.name.removesuffix(".json")
        parsed = parse_split_name(name) or {}
        count, seed, n = parsed.get("count"), parsed.get("seed"), parsed.get("count")
        fraction = None if count is not None else parsed.get("fraction")
    return {"split": name, "fraction": fraction, "count": count, "seed": seed, "num_labeled": n}


def write_splits(
    dataset: str,
    paths: Sequence[str],
    labels: Sequence[int],
    out: str | Path,
    fractions: Sequence[float],
    seeds: Sequence[int],
    val_fraction: float = 0.1,
    val_seed: int = 0,
    counts: Sequence[int] = (),
    unlabeled: Sequence[str] = (),
) -> list[Path]:
    """Write a split per ``(fraction, seed)`` and per ``(count, seed)`` into ``out``
    (stale ones removed; all are made before any is written)."""
    splits = [
        make_split(dataset, paths, labels, f, s, val_fraction, val_seed, c, unlabeled)
        for f, c in [(f, None) for f in fractions] + [(1.0, c) for c in counts]
        for s in seeds
    ]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob("frac*-seed*.json"), *out.glob("n*-seed*.json")]:
        stale.unlink()  # a split that is no longer asked for
    return [s.save(out / f"{split_name(s.fraction, s.seed, s.count)}.json") for s in splits]


def main(args: list[str] | None = None) -> None:
    from ssl_core.project import project_source, resolve_project

    parser = argparse.ArgumentParser(description="Write a project's seeded label splits.")
    parser.add_argument("--project", required=True)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--root", type=Path, help="the data root")
    where.add_argument("--manifest", type=Path, help="manifest.json of the data stage")
    parser.add_argument("--fractions", type=float, nargs="*", default=[0.01, 0.1, 1.0])
    parser.add_argument("--counts", type=int, nargs="*", default=[], help="labeled samples")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--val-seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    ns = parser.parse_args(args)
    with exits_on_input_errors("ssl_core.splits"):
        source = project_source(resolve_project(ns.project))
        root = ns.root if ns.root is not None else data_root(ns.manifest)
        samples = source.training_samples(root)
        targeted = [s for s in samples if s[1] is not None]
        paths, strata = [p for p, _ in targeted], source.strata(root, targeted)
        free = [p for p, t in samples if t is None]
        settings = (ns.fractions, ns.seeds, ns.val_fraction, ns.val_seed, ns.counts, free)
        written = write_splits(source.name, paths, strata, ns.out, *settings)
    print(f"{len(written)} label splits of {root} written to {ns.out}")


if __name__ == "__main__":
    main()
