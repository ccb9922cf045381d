"""The data side of segmentation: joint transforms keep image, mask and views aligned;
the generic source, dataset and datamodule on fake data (any channel count)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ssl_core.data import SampleDataset
from ssl_core.segmentation.data import (
    MaskMismatchError,
    SegmentationDataModule,
    SegmentationSource,
    make_fake_segmentation,
)
from ssl_core.segmentation.transforms import (
    SegEvalTransform,
    SegTrainTransform,
    SegWeakStrongTransform,
)
from ssl_core.testing import isolated_split_cache  # noqa: F401


def blobs(channels: int, height: int = 90, width: int = 70, seed: int = 0):
    """A grey-level image of random bright blobs (replicated over ``channels``) and its
    mask: asymmetric, so any flip, rotation or shift between two outputs shows."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    yy, xx = np.mgrid[:height, :width]
    for _ in range(8):
        cy, cx, r = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(4, 12)
        mask[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 1
    grey = np.where(mask == 1, 200, 30).astype(np.uint8)
    return np.repeat(grey[:, :, None], channels, axis=2), mask


def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.float().flatten(), b.float().flatten()
    return float(torch.corrcoef(torch.stack([a, b]))[0, 1])


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_train_crop_keeps_image_and_mask_aligned_and_pads_with_ignore(channels):
    image, mask = blobs(channels)
    transform = SegTrainTransform(size=96, channels=channels)
    for seed in range(8):
        transform.set_random_seed(seed)
        out = transform(image, mask)
        x, y = out["image"], out["mask"]
        assert x.shape == (channels, 96, 96) and x.dtype == torch.uint8
        assert y.shape == (96, 96) and y.dtype == torch.int64
        padding = y == 255
        assert padding.any() and (x[:, padding] == 0).all()  # 70 px wide: padded to 96
        bright = x[0] > x[0][~padding].float().mean()
        assert torch.equal(bright[~padding], (y == 1)[~padding])


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_strong_views_stay_pixel_aligned_with_the_weak_view(channels):
    image, _ = blobs(channels, 120, 110)
    transform = SegWeakStrongTransform(size=96, channels=channels, strong_views=2)
    for seed in range(6):
        transform.set_random_seed(seed)
        out = transform(image)
        weak, *strong = out["views"]
        assert len(strong) == 2 and all(v.shape == (channels, 96, 96) for v in out["views"])
        assert out["ignore"].dtype == torch.uint8 and not out["ignore"].any()  # no padding
        for view in strong:
            assert correlation(weak[0], view[0]) > 0.8
        # what the test would catch: a strong view with geometry of its own
        assert correlation(weak[0], torch.flip(strong[0], dims=[-1])[0]) < 0.5


def test_strong_views_get_their_own_photometric_parameters_and_seeds_repeat():
    image, _ = blobs(3, 64, 64)
    transform = SegWeakStrongTransform(size=64, channels=3, strong_views=2, cj_prob=1.0)
    transform.set_random_seed(1)
    first = transform(image)["views"]
    transform.set_random_seed(1)
    again = transform(image)["views"]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[1], first[2])


def test_weak_view_of_a_small_image_marks_padding_in_ignore():
    image, _ = blobs(4, 40, 50)
    transform = SegWeakStrongTransform(size=64, channels=4, strong_views=1)
    transform.set_random_seed(0)
    out = transform(image)
    ignore = out["ignore"] == 255
    assert ignore.sum() == 64 * 64 - 40 * 50 and (out["views"][0][:, ignore] == 0).all()


def test_eval_transform_keeps_the_whole_image():
    image, mask = blobs(3, 37, 53)
    out = SegEvalTransform()(image, mask)
    assert out["image"].shape == (3, 37, 53) and torch.equal(
        out["mask"], torch.from_numpy(mask).long()
    )
    assert "mask" not in SegEvalTransform()(image)


@pytest.fixture(scope="module")
def fake4(tmp_path_factory):
    return make_fake_segmentation(tmp_path_factory.mktemp("seg4"), {"train": 12, "test": 3}, 48, 4)


def test_datamodule_batches_follow_the_contract(fake4):
    dm = SegmentationDataModule(
        SegmentationSource(channels=4),
        root=str(fake4),
        split="frac0.50-seed0",
        train_on="semi",
        crop_size=32,
        batch_size=2,
        unlabeled_ratio=2,
        num_workers=0,
    )
    dm.setup("fit")
    assert (dm.num_classes, dm.ignore_index, dm.in_channels, dm.train_on) == (2, 255, 4, "semi")
    batch, *_ = next(iter(dm.train_dataloader()))
    labeled, unlabeled = batch["labeled"], batch["unlabeled"]
    assert set(labeled) == {"image", "mask", "index"} and labeled["image"].shape == (2, 4, 32, 32)
    assert set(unlabeled) == {"views", "ignore", "index"} and unlabeled["ignore"].shape == (
        4,
        32,
        32,
    )
    assert len(unlabeled["views"]) == 3 and unlabeled["views"][0].shape == (4, 4, 32, 32)
    val = next(iter(dm.val_dataloader()))
    assert val["image"].shape[:2] == (1, 4) and val["mask"].shape == (1, *val["image"].shape[2:])
    (predict,) = dm.predict_dataloader()
    assert predict.dataset.ids == [f"img_{i:04d}" for i in range(3)]
    moved = dm.on_after_batch_transfer(batch, 0)
    assert all(v.dtype == torch.float32 for v in moved["unlabeled"]["views"])
    assert (
        moved["unlabeled"]["ignore"].dtype == torch.uint8
        and moved["labeled"]["mask"].dtype == torch.int64
    )


def test_supervised_without_split_and_a_refused_mask(fake4, tmp_path):
    dm = SegmentationDataModule(SegmentationSource(channels=4), root=str(fake4), num_workers=0)
    dm.setup("fit")
    assert len(dm.labeled_samples) + len(dm.val_samples) == 12 and not dm.unlabeled_samples
    with pytest.raises(ValueError, match="needs a label split"):
        SegmentationDataModule(SegmentationSource(channels=4), root=str(fake4), train_on="semi")
    source = SegmentationSource(channels=4)
    path, _ = source.list_samples(fake4, "train")[0]
    (tmp_path / "masks").mkdir()
    import cv2

    cv2.imwrite(str(tmp_path / "masks" / "bad.png"), np.zeros((3, 4), np.uint8))
    bad = SegmentationSource(channels=4)
    bad.read_mask = lambda root, ref: source.read_mask(tmp_path, "masks/bad.png")
    dataset = SampleDataset(
        fake4, [(path, "bad")], source.read, SegEvalTransform(), read_target=bad.read_target
    )
    with pytest.raises(MaskMismatchError, match="4x3 px"):
        dataset[0]
