"""Pseudo-labels from a learned space: the second round of semi-supervised training.
Details: docs/evaluation.md, "Pseudo-labels: a second round".
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import Literal

import numpy as np

from ssl_core.embeddings import load_embeddings
from ssl_core.errors import exits_on_input_errors
from ssl_core.evaluate.metrics import spread_labels
from ssl_core.knn import knn_scores
from ssl_core.splits import LabelSplit, SplitMismatchError


def pseudo_label_split(
    split: LabelSplit,
    ids: np.ndarray,
    embeddings: np.ndarray,
    method: Literal["knn", "spreading"] = "knn",
    threshold: float = 0.9,
    k: int = 20,
    t: float = 0.1,
    alpha: float = 0.2,
    num_classes: int | None = None,
    source: str = "",
) -> tuple[LabelSplit, dict]:
    """A new split: ``split``'s labels plus the confident pseudo-labels of its pool, and
    statistics. ``ids`` ``(N,)`` are the relative paths of the rows of ``embeddings``
    ``(N, D)`` (every training image); ``k``: neighbours (kNN vote, spreading graph); ``t``:
    the vote's temperature; ``alpha``: spreading's clamping; ``num_classes`` defaults to
    the split's; ``source`` describes the embeddings in the new split's ``source``."""
    row = {str(p): i for i, p in enumerate(ids)}
    missing = [p for p, _ in split.labeled if p not in row]
    if missing:
        raise SplitMismatchError(
            f"{len(missing)} labeled images of the split have no embedding (e.g. {missing[:3]}): "
            "the embeddings come from another training set, or its predict run left "
            "classes out."
        )
    pool = [p for p in split.unlabeled if p in row]
    lab_rows = np.array([row[p] for p, _ in split.labeled])
    lab_y = np.array([y for _, y in split.labeled], np.int64)
    pool_rows = np.array([row[p] for p in pool], np.int64)
    num_classes = num_classes or int(lab_y.max()) + 1
    if not len(pool):
        probs = np.zeros((0, num_classes))
    elif method == "knn":
        probs = knn_scores(embeddings[pool_rows], embeddings[lab_rows], lab_y, num_classes, k, t)
    elif method == "spreading":
        rows = np.concatenate([lab_rows, pool_rows])
        y = np.concatenate([lab_y, np.full(len(pool_rows), -1)])
        probs = spread_labels(embeddings[rows], y, num_classes, k, alpha)[len(lab_rows) :]
    else:
        raise ValueError(f"method must be 'knn' or 'spreading', not {method!r}")

    confidence, pseudo = probs.max(axis=1), probs.argmax(axis=1)
    keep = confidence >= threshold
    new_labeled = [(p, int(y)) for p, y, ok in zip(pool, pseudo, keep, strict=True) if ok]
    kept = {p for p, _ in new_labeled}
    labeled = sorted([*split.labeled, *new_labeled])
    unlabeled = sorted(p for p in split.unlabeled if p not in kept)
    settings = f"{method}, k={k}" + (f", t={t}" if method == "knn" else f", alpha={alpha}")
    new = dataclasses.replace(
        split,
        fraction=len(labeled) / split.num_images,
        labeled=labeled,
        unlabeled=unlabeled,
        count=None,
        source=(
            f"pseudo-labels of {split.source} split (fraction {split.fraction:.2f}, seed "
            f"{split.seed}) by {settings}, confidence >= {threshold}"
            + (f", from {source}" if source else "")
        ),
    )
    stats = {
        "labeled": len(split.labeled),
        "pool": len(pool),
        "pseudo_labeled": len(new_labeled),
        "still_unlabeled": len(unlabeled),
        "mean_confidence_kept": float(confidence[keep].mean()) if keep.any() else None,
        "per_class": dict(sorted(Counter(y for _, y in new_labeled).items())),
    }
    return new, stats


def main(args: list[str] | None = None) -> LabelSplit:
    parser = argparse.ArgumentParser(
        prog="python -m ssl_core.pseudolabels",
        description="Label the unlabeled pool of a label split from a model's embeddings "
        "(train predict's OUT/embeddings) and write a new split.",
    )
    parser.add_argument("embeddings", type=Path, help="embeddings directory (OUT/embeddings)")
    parser.add_argument("--split", type=Path, required=True, help="label split JSON to extend")
    parser.add_argument("--out", type=Path, required=True, help="where to write the new split JSON")
    parser.add_argument("--method", choices=("knn", "spreading"), default="knn")
    parser.add_argument(
        "--space",
        choices=("features", "projection"),
        default="features",
        help="backbone features or the contrastive projection",
    )
    parser.add_argument("--threshold", type=float, default=0.9, help="minimum confidence")
    parser.add_argument("--k", type=int, default=20, help="neighbours")
    parser.add_argument("--t", type=float, default=0.1, help="kNN vote temperature")
    parser.add_argument("--alpha", type=float, default=0.2, help="label spreading clamping")
    opts = parser.parse_args(args)

    with exits_on_input_errors("ssl_core.pseudolabels"):
        splits, meta = load_embeddings(opts.embeddings)
        split = LabelSplit.load(opts.split)
        train = splits["train"]
        num_classes = max(len(meta.get("class_names") or []), max(y for _, y in split.labeled) + 1)
        new, stats = pseudo_label_split(
            split,
            train.ids,
            train.space(opts.space),
            opts.method,
            opts.threshold,
            opts.k,
            opts.t,
            opts.alpha,
            num_classes,
            source=f"{opts.space} of {meta.get('model')} ({opts.embeddings}, "
            f"checkpoint {meta.get('checkpoint')})",
        )
    new.save(opts.out)

    print(json.dumps(stats, indent=1))
    row = {str(p): i for i, p in enumerate(train.ids)}
    given = {p for p, _ in split.labeled}
    added = [(row[p], y) for p, y in new.labeled if p not in given]
    true = np.array([train.labels[i] for i, _ in added])
    if len(true) and (true >= 0).all():
        # The pool's true labels exist only in a benchmark: a diagnostic, never a tuning target.
        hits = float(np.mean(true == np.array([y for _, y in added])))
        print(f"diagnostic: accuracy of the pseudo-labels (true labels of the pool) {hits:.3f}")
    print(f"wrote {opts.out}: {len(new.labeled)} labeled, {len(new.unlabeled)} unlabeled")
    return new


if __name__ == "__main__":
    main()
