"""Label splits: stratified, seeded, pinned to the file list they were drawn from."""

from __future__ import annotations

from collections import Counter

import pytest

from ssl_core.splits import LabelSplit, SplitMismatchError, fingerprint, make_split, split_name

PATHS = [f"train/c{c}/img{i:03d}.JPEG" for c in range(5) for i in range(40)]
LABELS = [c for c in range(5) for _ in range(40)]


def test_fingerprint_ignores_order_and_sees_one_file():
    assert fingerprint(PATHS) == fingerprint(list(reversed(PATHS)))
    assert fingerprint(PATHS) != fingerprint(PATHS[:-1])
    assert fingerprint(PATHS) != fingerprint([*PATHS[:-1], "train/c4/other.JPEG"])


def test_split_name():
    assert split_name(0.1, 0) == "frac0.10-seed0"
    assert split_name(1.0, 2) == "frac1.00-seed2"
    assert split_name(0.01, 1) == "frac0.01-seed1"


@pytest.mark.parametrize("fraction", [0.05, 0.1, 0.5])
def test_split_is_stratified_and_partitions(fraction):
    split = make_split("toy", PATHS, LABELS, fraction, seed=0)
    labeled = [p for p, _ in split.labeled]
    assert sorted(labeled + split.unlabeled + split.validation) == sorted(PATHS)
    assert not set(labeled) & set(split.unlabeled)
    assert not set(split.validation) & (set(labeled) | set(split.unlabeled))
    assert len(split.validation) == 20  # 10% of the training images, 4 per class
    assert set(Counter(p.split("/")[1] for p in split.validation).values()) == {4}
    assert len(labeled) == round(fraction * 180)  # a fraction of the rest
    per_class = Counter(y for _, y in split.labeled)
    assert len(per_class) == 5 and max(per_class.values()) - min(per_class.values()) <= 1
    truth = dict(zip(PATHS, LABELS, strict=True))
    assert all(truth[p] == y for p, y in split.labeled)


def test_tiny_fraction_keeps_one_label_per_class():
    split = make_split("toy", PATHS, LABELS, 0.001, seed=0)
    assert sorted(y for _, y in split.labeled) == list(range(5))


def test_seeds_differ_and_repeat():
    a, b = make_split("toy", PATHS, LABELS, 0.1, 0), make_split("toy", PATHS, LABELS, 0.1, 1)
    assert a.labeled != b.labeled
    assert make_split("toy", list(reversed(PATHS)), list(reversed(LABELS)), 0.1, 0) == a


def test_full_fraction_labels_everything_but_validation():
    split = make_split("toy", PATHS, LABELS, 1.0, seed=0)
    assert len(split.labeled) == len(PATHS) - 20 and split.unlabeled == []


def test_validation_is_the_same_for_every_fraction_and_seed():
    splits = [make_split("toy", PATHS, LABELS, f, s) for f in (0.05, 0.5, 1.0) for s in (0, 1)]
    assert all(s.validation == splits[0].validation for s in splits)
    other = make_split("toy", PATHS, LABELS, 0.1, 0, val_seed=1)
    assert other.validation != splits[0].validation


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_bad_fraction(fraction):
    with pytest.raises(ValueError, match="fraction"):
        make_split("toy", PATHS, LABELS, fraction, 0)


def test_save_load_round_trip(tmp_path):
    split = make_split("toy", PATHS, LABELS, 0.1, seed=3)
    path = split.save(tmp_path / "s" / f"{split_name(0.1, 3)}.json")
    assert LabelSplit.load(path) == split
    assert path.read_bytes() == split.save(tmp_path / "again.json").read_bytes()  # stable bytes


def test_split_of_another_dataset_is_refused():
    split = make_split("toy", PATHS, LABELS, 0.1, seed=0)
    split.check(list(reversed(PATHS)))  # same files: fine
    with pytest.raises(SplitMismatchError, match="made from another dataset"):
        split.check(PATHS[:-1], name="frac0.10-seed0")


def test_missing_split_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="No label split"):
        LabelSplit.load(tmp_path / "nope.json")
