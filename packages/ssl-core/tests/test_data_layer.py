"""The generic data layer: per-sample augmentation seeds across workers, the validation
split, named splits made on first use, science image formats, a project without a test
folder."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from ssl_core.data import ClassificationDataModule, ImageFolder, Images, read_image
from ssl_core.data.fake import write_image
from ssl_core.splits import LabelSplit, SplitMismatchError, cache_dir, make_split, write_splits


def datamodule(root, **kwargs) -> ClassificationDataModule:
    from ssl_core.transforms import WeakStrongTransform

    kwargs.setdefault("train_transform", WeakStrongTransform(size=24, weak_views=1, strong_views=1))
    dm = ClassificationDataModule(ImageFolder(), root=str(root), modality=Images(24), **kwargs)
    dm.setup("fit")
    return dm


def first_batches(loader, n: int) -> list[dict]:
    out = []
    for batch in loader:
        out.append(batch)
        if len(out) == n:
            return out
    return out


def test_every_worker_draws_its_own_views(fake_root):
    """One image repeated: worker 0's and worker 1's first batches must hold different
    views of it (albumentations 2.0.8 copies one generator into every worker, so they
    were identical), and so must the images within a batch."""
    dm = datamodule(fake_root, batch_size=4, num_workers=2)
    dm.train_set.samples = [dm.train_set.samples[0]] * 16
    batch0, batch1 = first_batches(dm.train_dataloader(), 2)  # worker 0, worker 1
    for field in range(2):  # weak and strong view
        a, b = batch0["views"][field], batch1["views"][field]
        assert not torch.equal(a, b), "two workers made the same views"
        assert len({v.numpy().tobytes() for v in torch.cat([a, b])}) == 8


def test_views_depend_on_the_sample_seed_alone(fake_root):
    """The same sampler seed gives the same batches with 0 or 2 workers."""
    batches = []
    for workers in (0, 2):
        torch.manual_seed(123)  # the sampler's seed comes from torch's generator
        dm = datamodule(fake_root, batch_size=4, num_workers=workers)
        batches.append(first_batches(dm.train_dataloader(), 3))
    for a, b in zip(*batches, strict=True):
        assert torch.equal(a["index"], b["index"])
        assert all(torch.equal(x, y) for x, y in zip(a["views"], b["views"], strict=True))


def test_validation_split_is_carved_from_train_and_read_by_val(fake_root):
    dm = datamodule(fake_root, split="frac0.50-seed0", train_on="labeled")
    val = {p for p, _ in dm.val_samples}
    assert len(val) == 6  # 10% of 60 training images, stratified: at least one per class
    assert len({p.split("/")[1] for p in val}) == 5
    assert not val & {p for p, _ in dm.label_split.labeled}
    assert not val & set(dm.label_split.unlabeled)
    assert all(p.startswith("train/") for p in val)
    queries = dm.val_dataloader()[1].dataset
    assert set(queries.paths) == val
    assert all(p.startswith("test/") for p in dm.test_dataloader()[1].dataset.paths)
    ssl = datamodule(fake_root)  # self-supervised: every image but the validation ones
    assert len(ssl.train_set) == 54 and not val & set(ssl.train_set.paths)


def test_named_split_is_made_on_first_use_like_the_stage(fake_root, tmp_path):
    dm = datamodule(fake_root, split="frac0.25-seed1", train_on="labeled")
    listing = ImageFolder().list_samples(fake_root, "train")
    paths, labels = [p for p, _ in listing], [y for _, y in listing]
    (written,) = write_splits("images", paths, labels, tmp_path, [0.25], [1])
    assert LabelSplit.load(written) == dm.label_split  # identical to the DVC stage's file
    cached = list(cache_dir().glob("images/*/frac0.25-seed1.json"))
    assert len(cached) == 1 and cached[0].read_bytes() == written.read_bytes()


def test_split_file_of_other_data_is_refused(fake_root, tmp_path):
    other = make_split("images", ["train/ant/x.png", "train/bee/y.png"], [0, 1], 1.0, 0)
    path = other.save(tmp_path / "other.json")
    with pytest.raises(SplitMismatchError, match="another dataset"):
        datamodule(fake_root, split=str(path), train_on="labeled")
    old = json.loads(path.read_text())
    del old["validation"]
    path.write_text(json.dumps(old))
    with pytest.raises(SplitMismatchError, match="predates validation"):
        datamodule(fake_root, split=str(path), train_on="labeled")


def test_project_without_test_folder_still_validates(fake_root, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(fake_root / "train", root / "train")
    dm = datamodule(root)
    assert len(dm.val_dataloader()[1].dataset) == 6
    with pytest.raises(FileNotFoundError, match="No test samples"):
        dm.test_dataloader()


def test_read_science_images(tmp_path):
    rng = np.random.default_rng(0)
    deep = (rng.integers(1000, 5000, (20, 30, 1))).astype(np.uint16)  # 12-bit camera data
    write_image(tmp_path / "deep.png", deep)
    image = read_image(tmp_path / "deep.png", channels=1)
    assert image.dtype == np.uint8 and image.shape == (20, 30, 1)
    assert image.min() == 0 and image.max() == 255  # its own range, not / 257
    stack = rng.integers(0, 256, (20, 30, 5)).astype(np.uint8)
    write_image(tmp_path / "stack.tif", stack)
    assert np.array_equal(read_image(tmp_path / "stack.tif", channels=5), stack)
    rgb16 = rng.integers(0, 65535, (8, 9, 3)).astype(np.uint16)
    write_image(tmp_path / "rgb16.tiff", rgb16)
    assert read_image(tmp_path / "rgb16.tiff").shape == (8, 9, 3)
    grey = rng.integers(0, 256, (8, 9, 1)).astype(np.uint8)
    write_image(tmp_path / "grey.png", grey)
    assert np.array_equal(read_image(tmp_path / "grey.png", 3), np.repeat(grey, 3, axis=2))
    (tmp_path / "bad.png").write_text("not an image")
    with pytest.raises(OSError, match="Cannot decode image .*bad.png"):
        read_image(tmp_path / "bad.png")
    with pytest.raises(OSError, match="has 5 channels, expected 3"):
        read_image(tmp_path / "stack.tif", channels=3)
