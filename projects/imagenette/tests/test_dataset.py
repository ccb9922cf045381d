"""Imagenette's source on the fake dataset: listing, labels, noisy labels, excluded
classes, limit_per_class, missing data."""

from __future__ import annotations

import csv

import pytest
import torch

from imagenette.datamodule import ImagenetteDataModule
from imagenette.dataset import CLASS_NAMES, WNIDS, Imagenette
from ssl_core.data import DataNotFoundError, Images, SampleDataset
from ssl_core.data.download import ensure_data
from ssl_core.splits import make_split


def _datamodule(root, **kwargs) -> ImagenetteDataModule:
    kwargs = {"modality": Images(32), "batch_size": 8, "num_workers": 0, **kwargs}
    dm = ImagenetteDataModule(root=str(root), download=False, **kwargs)
    dm.setup("fit")
    return dm


def test_lengths_and_labels_follow_folders(fake_root):
    source = Imagenette()
    train, test = source.list_samples(fake_root, "train"), source.list_samples(fake_root, "test")
    assert len(train) == 60 and len(test) == 30
    for samples in (train, test):
        assert all(WNIDS[label] == path.split("/")[1] for path, label in samples)
        assert sorted({label for _, label in samples}) == list(range(10))
    assert all(p.startswith("train/") for p, _ in train)
    assert all(p.startswith("val/") for p, _ in test)  # Imagenette's val is the test set
    assert [p for p, _ in train] == sorted(p for p, _ in train)
    assert source.class_list(fake_root) == WNIDS and source.names(fake_root) == CLASS_NAMES
    assert source.is_root(fake_root)


def test_items_are_rgb_uint8_even_for_grayscale_files(fake_root):
    source = Imagenette()
    train = SampleDataset(fake_root, source.list_samples(fake_root, "train"), source.read)
    index = train.paths.index("train/n01440764/n01440764_0001.JPEG")  # written grayscale
    item = train[index]
    assert (item["label"], item["index"]) == (0, index)
    image = item["image"]
    assert image.dtype == torch.uint8 and image.ndim == 3 and image.shape[0] == 3
    assert torch.equal(image[0], image[1]) and torch.equal(image[1], image[2])
    colour = train[index + 1]["image"]
    assert colour.shape[0] == 3 and not torch.equal(colour[0], colour[2])


def test_noisy_labels_come_from_the_csv(fake_root):
    with (fake_root / "noisy_imagenette.csv").open() as f:
        noisy = {r["path"]: WNIDS.index(r["noisy_labels_50"]) for r in csv.DictReader(f)}
    clean = Imagenette().list_samples(fake_root, "train")
    flipped = Imagenette(label_noise=50).relabel(fake_root, clean)
    assert [p for p, _ in flipped] == [p for p, _ in clean]
    assert [y for _, y in flipped] == [noisy[p] for p, _ in flipped]
    changed = sum(a != b for a, b in zip(clean, flipped, strict=True))
    assert changed == 30  # the fake flips every odd image
    assert Imagenette(label_noise=1).relabel(fake_root, clean) == clean
    with pytest.raises(ValueError, match="label_noise"):
        Imagenette(label_noise=3)
    # The datamodule trains on the noisy labels; validation and prediction keep clean ones.
    dm = _datamodule(fake_root, label_noise=50, train_on="labeled")
    assert dm.train_set.samples == [(p, noisy[p]) for p, _ in dm.pool_samples]
    assert dm.train_set.samples != dm.pool_samples
    assert all(WNIDS[y] == p.split("/")[1] for p, y in dm.pool_samples + dm.val_samples)


def test_noisy_labels_need_the_csv(tmp_path, fake_root):
    (tmp_path / "train").symlink_to(fake_root / "train")
    samples = Imagenette().list_samples(tmp_path, "train")
    with pytest.raises(FileNotFoundError, match="noisy_imagenette.csv"):
        Imagenette(label_noise=5).relabel(tmp_path, samples)


def test_exclude_classes_by_wnid_and_name(fake_root):
    dm = _datamodule(fake_root, exclude_classes=[WNIDS[0], CLASS_NAMES[3]])
    validation = {p for p, _ in dm.val_samples}
    listing = Imagenette().list_samples(fake_root, "train")
    expected = [s for s in listing if s[0] not in validation and s[1] not in (0, 3)]
    assert dm.train_set.samples == expected and len(expected) == 40  # 8 classes x 5
    assert {y for _, y in dm.train_set.samples} == set(range(10)) - {0, 3}  # numbering kept
    assert dm.bank_set.samples == dm.pool_samples == expected
    with pytest.raises(ValueError, match="Unknown class 'zebra'"):
        _datamodule(fake_root, exclude_classes=["zebra"])


def test_missing_folder_is_no_dataset(tmp_path, fake_root):
    source = Imagenette()
    assert source.list_samples(tmp_path, "train") == [] and not source.is_root(tmp_path)
    (tmp_path / "train" / WNIDS[0]).mkdir(parents=True)  # folders without images
    assert not source.is_root(tmp_path)
    with pytest.raises(DataNotFoundError, match="--data.root"):
        ensure_data(source, tmp_path, download=False)
    assert ensure_data(source, fake_root) == fake_root


def test_limit_per_class_keeps_the_same_first_images_for_listings_and_splits(fake_root):
    listing = Imagenette().list_samples(fake_root, "train")
    first = {p for w in WNIDS for p in sorted(p for p, _ in listing if f"/{w}/" in p)[:2]}
    full = _datamodule(fake_root)
    small = _datamodule(fake_root, limit_per_class=2)
    assert len(first) == 2 * len(WNIDS)
    # The validation split is made from the full list, then cut like everything else.
    assert small.val_samples == [s for s in full.val_samples if s[0] in first]
    assert small.train_set.samples == [s for s in full.train_set.samples if s[0] in first]
    assert {p for p, _ in small.train_set.samples + small.val_samples} == first
    assert len(small.test_samples) == 2 * len(WNIDS)
    assert all(int(p[-9:-5]) < 2 for p, _ in small.test_samples)
    # A split's labeled part is cut to the same images.
    paths, labels = [p for p, _ in listing], [y for _, y in listing]
    split = make_split("imagenette", paths, labels, fraction=0.5, seed=0)
    labeled = ImagenetteDataModule(
        root=str(fake_root), download=False, split="frac0.50-seed0", train_on="labeled",
        limit_per_class=2, num_workers=0,
    )  # fmt: skip
    labeled.setup("fit")
    assert labeled.label_split == split  # made on first use, like the stage's file
    assert labeled.train_set.samples == [s for s in split.labeled if s[0] in first]
    assert labeled.train_set.samples  # the cut kept some labeled images
