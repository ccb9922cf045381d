"""Imagenette on the fake dataset: listing, labels, noisy labels, excluded classes."""

from __future__ import annotations

import csv

import pytest
import torch

from imagenette.dataset import CLASS_NAMES, WNIDS, Imagenette


def test_lengths_and_labels_follow_folders(fake_root):
    train, val = Imagenette(fake_root, "train"), Imagenette(fake_root, "val")
    assert len(train) == 60 and len(val) == 30
    for dataset in (train, val):
        assert all(WNIDS[label] == path.split("/")[1] for path, label in dataset.samples)
        assert sorted(set(dataset.targets)) == list(range(10))
    assert all(p.startswith("train/") for p in train.paths)
    assert train.paths == sorted(train.paths)


def test_items_are_rgb_uint8_even_for_grayscale_files(fake_root):
    train = Imagenette(fake_root, "train")
    index = train.paths.index("train/n01440764/n01440764_0001.JPEG")  # written grayscale
    image, label, idx = train[index]
    assert (label, idx) == (0, index)
    assert image.dtype == torch.uint8 and image.ndim == 3 and image.shape[0] == 3
    assert torch.equal(image[0], image[1]) and torch.equal(image[1], image[2])
    colour, _, _ = train[index + 1]
    assert colour.shape[0] == 3 and not torch.equal(colour[0], colour[2])


def test_noisy_labels_come_from_the_csv(fake_root):
    with (fake_root / "noisy_imagenette.csv").open() as f:
        noisy = {r["path"]: WNIDS.index(r["noisy_labels_50"]) for r in csv.DictReader(f)}
    clean, flipped = Imagenette(fake_root, "train"), Imagenette(fake_root, "train", label_noise=50)
    assert flipped.paths == clean.paths
    assert flipped.targets == [noisy[p] for p in flipped.paths]
    changed = sum(a != b for a, b in zip(clean.targets, flipped.targets, strict=True))
    assert changed == 30  # the fake flips every odd image
    assert Imagenette(fake_root, "train", label_noise=1).targets == clean.targets
    with pytest.raises(ValueError, match="label_noise"):
        Imagenette(fake_root, "train", label_noise=3)


def test_noisy_labels_need_the_csv(tmp_path, fake_root):
    (tmp_path / "train").symlink_to(fake_root / "train")
    with pytest.raises(FileNotFoundError, match="noisy_imagenette.csv"):
        Imagenette(tmp_path, "train", label_noise=5)


def test_exclude_classes_by_wnid_and_name(fake_root):
    kept = Imagenette(fake_root, "train", exclude_classes=[WNIDS[0], CLASS_NAMES[3]])
    assert len(kept) == 48
    assert set(kept.targets) == set(range(10)) - {0, 3}  # labels keep their numbering
    with pytest.raises(ValueError, match="Unknown Imagenette class"):
        Imagenette(fake_root, "train", exclude_classes=["zebra"])


def test_bad_split_and_missing_folder(tmp_path, fake_root):
    with pytest.raises(ValueError, match="split"):
        Imagenette(fake_root, "test")
    with pytest.raises(FileNotFoundError, match="No train/ folder"):
        Imagenette(tmp_path, "train")


def test_limit_per_class_keeps_the_same_first_images_for_listings_and_splits(fake_root):
    full = Imagenette(fake_root, "train")
    small = Imagenette(fake_root, "train", limit_per_class=2)
    assert len(small) == 2 * len(WNIDS)
    assert set(small.paths) <= set(full.paths)
    first = {w: sorted(p for p in full.paths if f"/{w}/" in p)[:2] for w in WNIDS}
    assert sorted(small.paths) == sorted(p for ps in first.values() for p in ps)
    # a given sample list (e.g. a split's labeled part) is cut to the same images
    subset = Imagenette(fake_root, "train", samples=full.samples[::2], limit_per_class=2)
    assert set(subset.paths) == set(small.paths) & set(full.paths[::2])
