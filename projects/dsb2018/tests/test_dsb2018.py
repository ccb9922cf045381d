"""DSB2018: listing, masks, image types and splits on fake data in the real layout; the
datamodule's batches; one step through `train`; the real data when it is there."""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from dsb2018 import DSB2018, DSB2018DataModule
from dsb2018.dataset import IMAGE_TYPES
from dsb2018.fake import COUNTS, make_fake
from ssl_core.cli import cli
from ssl_core.data import SampleDataset
from ssl_core.data.images import BadImageError
from ssl_core.segmentation.data import MaskMismatchError
from ssl_core.segmentation.transforms import SegEvalTransform
from ssl_core.testing import isolated_split_cache  # noqa: F401 (splits made on first use go to tmp)

PROJECT = Path(__file__).resolve().parents[1]
CONFIGS = PROJECT / "configs"
REAL = PROJECT.parents[1] / ".." / "shared" / "data" / "dsb2018-stage1-train"


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    return make_fake(tmp_path_factory.mktemp("dsb2018") / "data")


def test_listing_and_fixed_stratified_test_split(fake_root):
    source = DSB2018()
    train, test = source.list_samples(fake_root, "train"), source.list_samples(fake_root, "test")
    assert len(train) + len(test) == sum(COUNTS.values()) and len(test) == 6  # 20%
    assert not {p for p, _ in train} & {p for p, _ in test}
    assert all(ref is not None and ref.endswith("/masks") for _, ref in train + test)
    assert set(source.strata(fake_root, test)) == {0, 1, 2}  # every image type is tested
    assert DSB2018().list_samples(fake_root, "test") == test  # fixed


def test_image_types_follow_the_recorded_rule(fake_root):
    expected = json.loads((fake_root / "types.json").read_text())
    assert DSB2018().image_types(fake_root) == expected
    samples = DSB2018().list_samples(fake_root, "train")
    strata = DSB2018().strata(fake_root, samples)
    assert [IMAGE_TYPES[s] for s in strata] == [expected[Path(p).stem] for p, _ in samples]


def test_read_drops_alpha_and_expands_grey(fake_root):
    source = DSB2018()
    files = {}
    for path, _ in source.list_samples(fake_root, "train"):
        channels = cv2.imread(str(fake_root / path), cv2.IMREAD_UNCHANGED).shape[2:] or (1,)
        files.setdefault(channels[0], path)
    assert set(files) == {1, 4}  # the fake data has RGBA and grey files
    rgba = cv2.cvtColor(
        cv2.imread(str(fake_root / files[4]), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGRA2RGBA
    )
    assert np.array_equal(source.read(fake_root, files[4]), rgba[:, :, :3])
    grey = source.read(fake_root, files[1])
    assert grey.shape[2] == 3 and np.array_equal(grey[:, :, 0], grey[:, :, 2])


def test_mask_is_the_union_of_the_nuclei(fake_root):
    source = DSB2018()
    path, ref = source.list_samples(fake_root, "train")[0]
    nuclei = [cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) > 0 for f in (fake_root / ref).glob("*.png")]
    assert len(nuclei) >= 2
    expected = np.any(nuclei, axis=0).astype(np.uint8)
    mask = source.read_mask(fake_root, ref)
    assert mask.dtype == np.uint8 and np.array_equal(mask, expected)
    assert np.array_equal(DSB2018().read_mask(fake_root, ref), expected)  # from the cache
    assert mask.shape == source.read(fake_root, path).shape[:2]


def test_a_mask_of_another_size_is_refused(fake_root, tmp_path):
    source = DSB2018()
    path, _ = source.list_samples(fake_root, "train")[0]
    cv2.imwrite(str(tmp_path / "m.png"), np.zeros((5, 7), np.uint8))
    source.read_mask = lambda root, ref: cv2.imread(ref, cv2.IMREAD_GRAYSCALE)
    dataset = SampleDataset(
        fake_root, [(path, str(tmp_path / "m.png"))], source.read, SegEvalTransform(),
        read_target=source.read_target,
    )  # fmt: skip
    with pytest.raises(MaskMismatchError, match="7x5 px"):
        dataset[0]


def test_a_bad_nucleus_mask_is_named_at_setup_by_its_image(fake_root, tmp_path):
    root = shutil.copytree(fake_root, tmp_path / "data")
    path, ref = DSB2018().list_samples(root, "train")[0]
    DSB2018().read_mask(root, ref)  # its union is cached
    nucleus = sorted((root / ref).glob("*.png"))[0]
    values = cv2.imread(str(nucleus), cv2.IMREAD_GRAYSCALE)
    cv2.imwrite(str(nucleus), np.where(values > 0, 7, 0).astype(np.uint8))
    bad = DSB2018().bad_samples(root)
    assert list(bad) == [path] and f"{nucleus.name} holds values [0, 7]" in bad[path]
    with pytest.raises(BadImageError, match="holds values"):
        DSB2018().read_mask(root, ref)  # not the union cached before
    dm = DSB2018DataModule(root=str(root), num_workers=0, on_bad_file="skip")
    with pytest.warns(UserWarning, match="1 bad images"):
        dm.setup("fit")
    assert path not in {p for p, _ in dm.val_samples + dm.pool_samples + dm.test_samples}


def test_splits_are_disjoint(fake_root):
    dm = DSB2018DataModule(
        root=str(fake_root), split="frac0.25-seed0", train_on="semi", num_workers=0
    )
    dm.setup("fit")
    labeled = {p for p, _ in dm.labeled_samples}
    unlabeled = {p for p, _ in dm.unlabeled_samples}
    val, test = {p for p, _ in dm.val_samples}, {p for p, _ in dm.test_samples}
    parts = [labeled, unlabeled, val, test]
    assert all(parts) and sum(map(len, parts)) == len(set().union(*parts)) == sum(COUNTS.values())
    assert all(ref is None for _, ref in dm.unlabeled_samples)  # never read
    assert len(val) >= 3  # stratified: one per image type at least


def test_batches_follow_the_contract(fake_root):
    dm = DSB2018DataModule(
        root=str(fake_root),
        split="frac0.25-seed0",
        train_on="semi",
        crop_size=48,
        batch_size=2,
        num_workers=0,
    )
    dm.setup("fit")
    assert (dm.num_classes, dm.ignore_index, dm.predict_split_names) == (2, 255, ["test"])
    batch, *_ = next(iter(dm.train_dataloader()))
    labeled, unlabeled = batch["labeled"], batch["unlabeled"]
    assert labeled["image"].shape == (2, 3, 48, 48) and labeled["image"].dtype == torch.uint8
    assert labeled["mask"].dtype == torch.int64 and set(labeled["mask"].unique().tolist()) <= {
        0,
        1,
        255,
    }
    assert [v.shape for v in unlabeled["views"]] == [(2, 3, 48, 48)] * 3
    assert unlabeled["ignore"].shape == (2, 48, 48) and unlabeled["ignore"].dtype == torch.uint8
    (loader,) = dm.predict_dataloader()
    sample = next(iter(loader))
    assert sample["image"].shape[0] == 1 and sample["mask"].shape == (1, *sample["image"].shape[2:])
    assert loader.dataset.ids[0] == Path(dm.test_samples[0][0]).stem
    moved = dm.on_after_batch_transfer(batch, 0)
    assert moved["unlabeled"]["views"][1].dtype == torch.float32
    assert torch.equal(moved["labeled"]["mask"], labeled["mask"])


@pytest.mark.parametrize("recipe", ["supervised-cpu", "fixmatch-cpu"])
def test_one_step_through_train(recipe, fake_root, tmp_path):
    run = cli(
        [
            "fit",
            "--config",
            str(CONFIGS / f"{recipe}.yaml"),
            "--data.root",
            str(fake_root),
            "--data.split",
            "frac0.25-seed0",
            "--trainer.fast_dev_run",
            "1",
            "--trainer.default_root_dir",
            str(tmp_path),
            "--data.num_workers",
            "0",
            "--data.batch_size",
            "2",
            "--data.crop_size",
            "32",
        ]
    )
    losses = [
        v.item() for k, v in run.trainer.callback_metrics.items() if k.startswith("train/loss")
    ]
    assert losses and all(math.isfinite(v) for v in losses)
    if recipe == "fixmatch-cpu":  # the recipe chosen on validation: EMA-teacher pseudo-labels
        teacher = dict(run.model.teacher.named_parameters())
        trained = [n for n, p in run.model.network.named_parameters() if p.requires_grad]
        assert trained and all(not teacher[n].requires_grad for n in trained)
        assert "train/unlabeled_weight" in run.trainer.callback_metrics


@pytest.mark.skipif(not REAL.is_dir(), reason=f"the real DSB2018 copy is not at {REAL.resolve()}")
def test_real_data_types_and_splits():
    source = DSB2018()
    types = source.image_types(REAL)
    assert len(types) == 664
    assert Counter(types.values()) == {"fluorescence": 541, "brightfield": 16, "histology": 107}
    train, test = source.list_samples(REAL, "train"), source.list_samples(REAL, "test")
    assert (len(train), len(test)) == (531, 133)
    assert Counter(IMAGE_TYPES[s] for s in source.strata(REAL, test)) == {
        "fluorescence": 108,
        "brightfield": 3,
        "histology": 22,
    }
    path, ref = train[0]
    image, mask = source.read(REAL, path), source.read_mask(REAL, ref)
    assert image.shape[2] == 3 and mask.shape == image.shape[:2] and mask.max() == 1
