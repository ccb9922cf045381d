"""A scientist's own data: samples without targets, through splits and ``train fit``.

Classification: ``train/<class>/*`` plus ``unlabeled/**/*``; segmentation: images with
and without masks (24 + 30). Whatever the split (``frac``, ``n<K>``, ``all``) and the
method (semi-supervised or self-supervised), a sample without a target never reaches the
validation split, the labeled set or the kNN bank, and is always in the unlabeled pool.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from ssl_core.cli import cli
from ssl_core.data import BadDataError, ClassificationDataModule, ImageFolder
from ssl_core.data.fake import class_image, make_fake_image_folder, write_image
from ssl_core.manifest import cache_dir
from ssl_core.segmentation.data import SegmentationSource, make_fake_segmentation
from ssl_core.splits import LabelSplit, make_split, resolve_split, write_splits

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TESTS = Path(__file__).resolve().parent
SEG_CONFIG = TESTS / "configs" / "segmentation-tiny.yaml"
CLASSES = ("ant", "bee", "cat")


def weak(views: int, strong: int = 0) -> str:
    args = f'{{"size": 32, "weak_views": {views}, "strong_views": {strong}}}'
    return f'{{"class_path": "ssl_core.transforms.WeakStrongTransform", "init_args": {args}}}'


@pytest.fixture(scope="module")
def own_root(tmp_path_factory) -> Path:
    """3 classes x 6 labeled training images, 3 test each, and 20 images without a class
    under ``unlabeled/`` (two levels)."""
    root = make_fake_image_folder(
        tmp_path_factory.mktemp("own") / "data", CLASSES, {"train": 6, "test": 3}, size=36
    )
    rng = np.random.default_rng(1)
    for i in range(20):
        sub = "a" if i % 2 else "b/c"
        write_image(root / "unlabeled" / sub / f"u{i:03d}.png", class_image(i % 3, 3, 36, 36, rng))
    return root


def free_paths(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in (root / "unlabeled").rglob("*.png")}


def check_pools(dm, free: set[str]) -> None:
    """No target-less sample in validation, the labeled set or the kNN bank; all of them
    in the unlabeled pool (and in the split's ``unlabeled`` when there is a split)."""
    assert not free & {p for p, _ in dm.val_samples}
    assert not free & set(dm.labeled_set.paths)
    if hasattr(dm, "bank_set"):
        assert not free & set(dm.bank_set.paths)
    if dm.train_on == "semi":
        assert free <= set(dm.unlabeled_set.paths)
    if dm.label_split is not None:
        assert free <= set(dm.label_split.unlabeled)
        assert not free & ({p for p, _ in dm.label_split.labeled} | set(dm.label_split.validation))


# ------------------------------------------------------------------- splits
PATHS = [f"train/c{c}/img{i:03d}.png" for c in range(4) for i in range(10)]
LABELS = [c for c in range(4) for _ in range(10)]
FREE = [f"unlabeled/x{i}.png" for i in range(7)]


def test_count_split_is_stratified_seeded_and_keeps_unlabeled_out():
    split = make_split("toy", PATHS, LABELS, seed=3, count=8, unlabeled=FREE)
    assert len(split.labeled) == 8 and split.count == 8
    assert Counter(y for _, y in split.labeled) == {0: 2, 1: 2, 2: 2, 3: 2}
    assert set(FREE) <= set(split.unlabeled) and not set(FREE) & set(split.validation)
    again = make_split("toy", PATHS, LABELS, seed=3, count=8, unlabeled=FREE)
    assert again.labeled == split.labeled
    assert make_split("toy", PATHS, LABELS, seed=4, count=8).labeled != split.labeled


def test_all_labels_every_targeted_sample_outside_validation():
    split = resolve_split("all", "toy", PATHS, LABELS, unlabeled=FREE)
    assert len(split.labeled) + len(split.validation) == len(PATHS)
    assert split.unlabeled == FREE
    assert not list(cache_dir().rglob("all.json"))  # made on use, never cached


def test_fingerprint_covers_only_targeted_samples_and_new_unlabeled_join_the_pool(tmp_path):
    before = resolve_split("n8-seed0", "toy", PATHS, LABELS, unlabeled=FREE[:3])
    after = resolve_split("n8-seed0", "toy", PATHS, LABELS, unlabeled=FREE)
    assert after.fingerprint == before.fingerprint
    assert after.labeled == before.labeled and after.validation == before.validation
    assert set(FREE) <= set(after.unlabeled)
    cached = list((cache_dir() / "toy").rglob("n8-seed0.json"))
    assert len(cached) == 1  # cached beside the fraction splits, named by count
    written = write_splits("toy", PATHS, LABELS, tmp_path, [0.5], [0], counts=[4], unlabeled=FREE)
    assert sorted(p.name for p in written) == ["frac0.50-seed0.json", "n4-seed0.json"]
    saved = LabelSplit.load(tmp_path / "n4-seed0.json")
    assert len(saved.labeled) == 4 and set(FREE) <= set(saved.unlabeled)


def test_a_count_larger_than_the_data_is_one_message_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="asks for 500 labeled samples; toy has 36"):
        resolve_split("n500-seed0", "toy", PATHS, LABELS)
    assert not list(cache_dir().rglob("n500-seed0.json"))
    with pytest.raises(ValueError, match="asks for 500"):
        write_splits("toy", PATHS, LABELS, tmp_path / "out", [0.5], [0], counts=[500])
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------- classification
def test_unlabeled_folder_is_listed_without_targets(own_root):
    samples = ImageFolder().training_samples(own_root)
    free = {p for p, y in samples if y is None}
    assert free == free_paths(own_root) and len(free) == 20
    assert ImageFolder().class_list(own_root) == CLASSES  # unlabeled/ is no class


def test_a_class_folder_named_unlabeled_is_refused(own_root, tmp_path):
    root = tmp_path / "data"
    write_image(
        root / "train" / "a" / "x.png",
        class_image(0, 3, 32, 32, np.random.default_rng(0)),
    )
    (root / "train" / "unlabeled").mkdir()
    with pytest.raises(BadDataError, match=r"would be a class: .*unlabeled/ \(at the data root"):
        ClassificationDataModule(root=str(root), num_workers=0).setup("fit")


class SecondFolder(ImageFolder):
    """Unlabeled images listed from another folder than ``unlabeled/``."""

    def list_unlabeled(self, root):
        return sorted(p.relative_to(root).as_posix() for p in (root / "extra").glob("*.png"))


def test_a_source_lists_unlabeled_samples_from_anywhere(own_root, tmp_path):
    root = tmp_path / "data"
    make_fake_image_folder(root, CLASSES, {"train": 4}, size=32)
    rng = np.random.default_rng(2)
    for i in range(5):
        write_image(root / "extra" / f"e{i}.png", class_image(0, 3, 32, 32, rng))
    dm = ClassificationDataModule(SecondFolder(), root=str(root), split="all", train_on="semi")
    dm.setup("fit")
    extra = {f"extra/e{i}.png" for i in range(5)}
    assert set(dm.unlabeled_set.paths) == extra
    check_pools(dm, extra)


@pytest.mark.parametrize("split", ["frac0.50-seed0", "n3-seed0", "all"])
def test_semi_fit_keeps_unlabeled_images_out_of_validation_labels_and_bank(
    own_root, tmp_path, tiny_args, split
):
    args = tiny_args(own_root, tmp_path, "--model", "ssl_core.methods.FixMatch")
    args += ["--model.init_args.num_classes", "3", "--model.init_args.threshold", "0.0"]
    args += ["--data.split", split, "--data.train_on", "semi", "--data.batch_size", "4"]
    args += ["--data.labeled_transform", weak(1), "--data.unlabeled_transform", weak(1, 1)]
    run = cli([*args, "--trainer.limit_train_batches", "2"])
    assert run.trainer.state.finished
    dm = run.datamodule
    check_pools(dm, free_paths(own_root))
    if split == "n3-seed0":
        assert len(dm.labeled_set) == 3
    if split == "all":  # every labeled image outside validation is labeled
        assert len(dm.labeled_set) + len(dm.val_samples) == 18


def test_self_supervised_epoch_covers_the_unlabeled_images(own_root, tmp_path, tiny_args):
    run = cli(tiny_args(own_root, tmp_path, "--data.split", "n3-seed0", "--trainer.max_steps", "1"))
    dm = run.datamodule
    check_pools(dm, free_paths(own_root))
    assert free_paths(own_root) <= set(dm.train_set.paths)
    assert len(dm.train_set) == 18 - len(dm.val_samples) + 20
    cached = json.loads(next(cache_dir().rglob("images/*/n3-seed0.json")).read_text())
    assert free_paths(own_root) <= set(cached["unlabeled"])


def test_no_labeled_sample_is_one_message_for_labeled_and_semi(tmp_path, tiny_args):
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    for i in range(6):
        write_image(root / "unlabeled" / f"u{i}.png", class_image(0, 3, 32, 32, rng))
    for mode in ("labeled", "semi"):
        dm = ClassificationDataModule(root=str(root), train_on=mode, split="all", num_workers=0)
        with pytest.raises(BadDataError, match="No training sample of .* has a class"):
            dm.setup("fit")
    args = tiny_args(root, tmp_path / "run", "--data.split", "n500-seed0")
    args += ["--data.train_on", "labeled", "--model", "ssl_core.methods.SupCon"]
    with pytest.raises(SystemExit, match="has a class"):
        cli(args)


def test_a_count_larger_than_the_data_ends_train_with_one_line(own_root, tmp_path, tiny_args):
    with pytest.raises(SystemExit, match="asks for 500 labeled samples") as info:
        cli(tiny_args(own_root, tmp_path / "run", "--data.split", "n500-seed0"))
    assert "\n" not in str(info.value.code)
    assert not list(cache_dir().rglob("n500-seed0.json"))


# ------------------------------------------------------------- segmentation
@pytest.fixture(scope="module")
def seg_root(tmp_path_factory) -> Path:
    """24 training images with masks, 30 without, 3 test images."""
    return make_fake_segmentation(
        tmp_path_factory.mktemp("seg24"), {"train": 24, "test": 3}, size=40, unlabeled=30
    )


def maskless(root: Path) -> set[str]:
    images = {p.relative_to(root).as_posix() for p in (root / "train" / "images").glob("*.png")}
    return {p for p in images if not (root / p.replace("images", "masks")).is_file()}


def seg_args(root: Path, run: Path, *extra: str) -> list[str]:
    return [
        "fit", "--config", str(SEG_CONFIG), "--data.root", str(root),
        "--trainer.default_root_dir", str(run), "--trainer.limit_train_batches", "2",
        "--trainer.limit_val_batches", "2", *extra,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "split"),
    [("SupervisedSegmentation", "frac0.25-seed0"), ("UniMatch", "n8-seed0"), ("UniMatch", "all")],
)
def test_segmentation_24_plus_30_trains_with_maskless_images_unlabeled(
    seg_root, tmp_path, method, split
):
    free = maskless(seg_root)
    assert len(free) == 30
    extra = ["--model", f"ssl_core.segmentation.{method}", "--data.split", split]
    if method == "UniMatch":
        extra += ["--data.train_on", "semi"]
    run = cli(seg_args(seg_root, tmp_path, *extra))
    assert run.trainer.state.finished
    check_pools(run.datamodule, free)
    if split == "n8-seed0":
        assert len(run.datamodule.labeled_set) == 8


def test_simclr_on_a_segmentation_source_uses_every_image(seg_root, tmp_path, tiny_args):
    source = '{"class_path": "ssl_core.segmentation.SegmentationSource"}'
    run = cli(tiny_args(seg_root, tmp_path, "--data.source", source, "--trainer.max_steps", "1"))
    dm = run.datamodule
    check_pools(dm, maskless(seg_root))
    assert maskless(seg_root) <= set(dm.train_set.paths)


def test_train_test_refuses_a_test_image_without_mask(seg_root, tmp_path):
    import shutil

    root = tmp_path / "data"
    shutil.copytree(seg_root, root)
    (root / "test" / "masks" / "img_0001.png").unlink()
    with pytest.raises(SystemExit, match=r"1 test samples .* have no mask.*img_0001\.png"):
        cli(["test", *seg_args(root, tmp_path / "run")[1:]])


class ByNumber(SegmentationSource):
    """Strata from the file number: defined only for the images of the layout."""

    strata_names = ("even", "odd")

    def strata(self, root, samples):
        return [int(Path(p).stem.split("_")[-1]) % 2 for p, _ in samples]


def test_a_segmentation_source_is_classified_by_strata_of_its_masked_images(seg_root, tmp_path):
    import shutil

    root = tmp_path / "data"
    shutil.copytree(seg_root, root)
    image = np.zeros((40, 40, 3), np.uint8)
    write_image(root / "unlabeled" / "extra.png", image)
    dm = ClassificationDataModule(ByNumber(), root=str(root), split="all", num_workers=0)
    dm.setup("fit")
    labels = dict(dm.train_set.samples)
    assert labels["unlabeled/extra.png"] is None  # no stratum asked of it
    assert {labels[p] for p, mask in dm.listing if mask is not None and p in labels} == {0, 1}
    check_pools(dm, maskless(root) | {"unlabeled/extra.png"})
