"""Label splits: stratified, seeded, pinned to the file list they were drawn from."""

from __future__ import annotations

from collections import Counter

import pytest

from ssl_core.errors import BadInputError, MissingInputError
from ssl_core.manifest import cache_dir
from ssl_core.splits import (
    LabelSplit,
    SplitMismatchError,
    fingerprint,
    make_split,
    resolve_split,
    split_name,
    write_splits,
)

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


# ------------------------------------------------- a name means one draw (per root)
def test_a_name_stays_bound_to_its_draw_at_a_root(tmp_path):
    said = []
    first = resolve_split("n8-seed0", "bound", PATHS, LABELS, root=tmp_path, say=said.append)
    again = resolve_split("n8-seed0", "bound", PATHS, LABELS, root=tmp_path, say=said.append)
    assert again == first and not said  # the bound draw, nothing to say

    grown = [*PATHS, "train/c0/new1.JPEG", "train/c1/new2.JPEG"]
    with pytest.raises(SplitMismatchError) as info:
        resolve_split("n8-seed0", "bound", grown, [*LABELS, 0, 1], root=tmp_path)
    message = str(info.value)
    assert "\n" not in message and str(tmp_path.resolve()) in message
    assert "200 samples with targets then, 202 now: 2 added (e.g. train/c0/new1.JPEG" in message
    assert "n8-seed0-v2" in message and "--data.redraw_split true" in message
    smaller = PATHS[1:]
    with pytest.raises(SplitMismatchError, match="1 removed or without a target now"):
        resolve_split("n8-seed0", "bound", smaller, LABELS[1:], root=tmp_path)

    tagged = resolve_split("n8-seed0-v2", "bound", grown, [*LABELS, 0, 1], root=tmp_path)
    redrawn = resolve_split(
        "n8-seed0", "bound", grown, [*LABELS, 0, 1], root=tmp_path, redraw=True, say=said.append
    )
    assert redrawn == tagged != first  # same rule, the data it was drawn from differs
    assert said == [f"split n8-seed0: redrawn at {tmp_path.resolve()} (200 samples with "
                    "targets then, 202 now: 2 added (e.g. train/c0/new1.JPEG, train/c1/new2.JPEG))"]  # fmt: skip
    assert resolve_split("n8-seed0", "bound", grown, [*LABELS, 0, 1], root=tmp_path) == redrawn


def test_unlabeled_samples_added_keep_the_binding(tmp_path):
    first = resolve_split("frac0.10-seed1", "bound", PATHS, LABELS, root=tmp_path)
    more = resolve_split(
        "frac0.10-seed1", "bound", PATHS, LABELS, root=tmp_path, unlabeled=["unlabeled/u.png"]
    )
    assert more.labeled == first.labeled and more.validation == first.validation
    assert "unlabeled/u.png" in more.unlabeled


def test_another_root_gets_its_own_draw_said_in_one_line(tmp_path):
    said = []
    resolve_split("n8-seed0", "roots", PATHS, LABELS, root=tmp_path / "a", say=said.append)
    other = PATHS[:150]
    split = resolve_split(
        "n8-seed0", "roots", other, LABELS[:150], root=tmp_path / "b", say=said.append
    )
    assert split.fingerprint == fingerprint(other)
    assert said == [
        f"split n8-seed0: another root has its own; {(tmp_path / 'b').resolve()} gets its "
        "own draw (150 samples with targets)"
    ]
    all_split = resolve_split("all", "roots", other, LABELS[:150], root=tmp_path / "a")
    assert len(all_split.labeled) + len(all_split.validation) == 150  # never bound


def test_the_projects_split_file_is_the_record_where_it_matches(tmp_path):
    (written,) = write_splits("bound", PATHS, LABELS, tmp_path / "splits", [0.1], [0])
    said = []
    split = resolve_split(
        "frac0.10-seed0",
        "bound",
        PATHS,
        LABELS,
        tmp_path / "splits",
        root=tmp_path,
        say=said.append,
    )
    assert split == LabelSplit.load(written) and not said
    assert not list(cache_dir().rglob("frac0.10-seed0.json"))  # nothing bound: DVC's file
    other = PATHS[:100]
    split = resolve_split(
        "frac0.10-seed0", "bound", other, LABELS[:100], tmp_path / "splits", root=tmp_path,
        say=said.append,
    )  # fmt: skip
    assert split.fingerprint == fingerprint(other)
    assert len(said) == 1 and "frac0.10-seed0.json was made from other data (200" in said[0]
    assert "100 removed or without a target now" in said[0]


def test_unknown_or_impossible_split_names_are_one_line_input_errors(tmp_path):
    with pytest.raises(MissingInputError, match="No label split 'n8-sed0'"):
        resolve_split("n8-sed0", "bound", PATHS, LABELS, root=tmp_path)
    with pytest.raises(BadInputError, match="fraction must be in"):
        resolve_split("frac2-seed0", "bound", PATHS, LABELS, root=tmp_path)


def test_a_count_below_the_class_count_is_refused_in_one_line(tmp_path):
    # 5 classes: n4 would leave a class without a label (the draw cannot be stratified)
    with pytest.raises(BadInputError) as info:
        resolve_split("n4-seed1", "bound", PATHS, LABELS, root=tmp_path)
    assert str(info.value) == (
        "Split n4-seed1 asks for 4 labeled samples but the data has 5 classes: some class "
        "would have no label; use a count >= 5 (n5-seed1) or a frac split (e.g. "
        "frac0.10-seed1: at least one label per class)"
    )
    assert not list(cache_dir().rglob("n4-seed1.json"))  # nothing bound
    with pytest.raises(BadInputError, match="n2-seed0 asks for 2 labeled samples but"):
        write_splits("bound", PATHS, LABELS, tmp_path / "splits", [0.1], [0], counts=[2])
    assert not (tmp_path / "splits").exists()  # the stage writes nothing
    split = make_split("toy", PATHS, LABELS, seed=1, count=5)
    assert sorted(y for _, y in split.labeled) == list(range(5))  # one per class
