"""The data side of segmentation: joint transforms keep image, mask and views aligned;
the generic source, dataset and datamodule on fake data (any channel count); masks'
values and colours checked when read and, for every mask, at setup (cached)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from jsonargparse import ArgumentParser

from ssl_core.cli import cli
from ssl_core.data import SampleDataset
from ssl_core.data.fake import write_image
from ssl_core.data.images import BadImageError, read_image
from ssl_core.data.sources import BadDataError
from ssl_core.errors import BadInputError
from ssl_core.segmentation.data import (
    BadMaskError,
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
from ssl_core.testing import isolated_split_cache, one_torch_thread  # noqa: F401


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


# ------------------------------------------------------------------- masks
def write_mask(folder, name: str, mask: np.ndarray) -> str:
    """Write ``mask`` (``(H, W)`` grey or ``(H, W, C)`` RGB(A)) as ``folder/name``."""
    write_image(folder / name, mask if mask.ndim == 3 else mask[:, :, None])
    return name


def red_on_black() -> np.ndarray:
    """An RGB mask: red (255, 0, 0) foreground on black, and where it is."""
    rgb = np.zeros((6, 8, 3), np.uint8)
    rgb[2:4, 3:6] = (255, 0, 0)
    return rgb


def test_a_red_on_black_mask_is_refused_without_a_palette(tmp_path):
    ref = write_mask(tmp_path, "red.png", red_on_black())
    with pytest.raises(BadMaskError) as error:
        SegmentationSource().read_mask(tmp_path, ref)
    message = str(error.value)
    assert "red.png is a colour mask" in message and "\n" not in message
    assert """palette '{"0,0,0": 0, "255,0,0": 1}'""" in message  # the colours found


def test_a_palette_maps_rgb_colours_to_class_ids(tmp_path):
    rgb = red_on_black()
    rgb[0, 0] = (0, 255, 0)  # green: ignore
    ref = write_mask(tmp_path, "red.png", rgb)
    source = SegmentationSource(palette={"0,0,0": 0, "#ff0000": 1, "0,255,0": 255})
    expected = np.zeros((6, 8), np.uint8)
    expected[2:4, 3:6] = 1
    expected[0, 0] = 255
    assert np.array_equal(source.read_mask(tmp_path, ref), expected)
    blue = write_mask(tmp_path, "blue.png", red_on_black()[:, :, ::-1])  # (0, 0, 255)
    with pytest.raises(BadMaskError, match=r"blue\.png holds colours that are not in .* 0,0,255"):
        source.read_mask(tmp_path, blue)


def test_the_palette_is_set_from_yaml_and_checked():
    parser = ArgumentParser()
    parser.add_class_arguments(SegmentationSource, "source")
    config = parser.parse_string('source: {palette: {"0,0,0": 0, "255,0,0": 1}}')
    source = parser.instantiate_classes(config).source
    assert source.palette == {"0,0,0": 0, "255,0,0": 1}
    with pytest.raises(BadInputError, match="'255,0' is not 'R,G,B'"):
        SegmentationSource(palette={"255,0": 1})
    with pytest.raises(BadInputError, match="maps to 2: segmentation has class ids 0-1"):
        SegmentationSource(palette={"255,0,0": 2})


@pytest.mark.parametrize(
    ("values", "expected"),
    [([0, 1], [0, 1]), ([0, 255], [0, 1]), ([255, 255], [1, 1]), ([0, 0], [0, 0])],
)
def test_two_class_masks_hold_0_1_or_0_255(tmp_path, values, expected):
    grey = np.array([values] * 3, np.uint8)
    ref = write_mask(tmp_path, "m.png", grey)
    assert SegmentationSource().read_mask(tmp_path, ref).tolist() == [expected] * 3
    rgba = np.concatenate([np.repeat(grey[:, :, None], 3, axis=2), grey[:, :, None] // 2], axis=2)
    ref = write_mask(tmp_path, "rgba.png", rgba)  # a grey mask saved RGBA: alpha dropped
    assert SegmentationSource().read_mask(tmp_path, ref).tolist() == [expected] * 3


@pytest.mark.parametrize("values", [[0, 1, 7], [0, 1, 255], [0, 7]])
def test_other_values_of_a_two_class_mask_are_refused(tmp_path, values):
    ref = write_mask(tmp_path, "seven.png", np.array([values], np.uint8))
    with pytest.raises(BadMaskError) as error:
        SegmentationSource().read_mask(tmp_path, ref)
    message = str(error.value)
    assert f"seven.png holds values {values}: a mask of 2 classes" in message


def test_ids_of_more_classes_are_checked_and_255_is_ignore(tmp_path):
    source = SegmentationSource(class_names=["background", "cell", "border"])
    ref = write_mask(tmp_path, "ok.png", np.array([[0, 1, 2, 255]], np.uint8))
    assert source.read_mask(tmp_path, ref).tolist() == [[0, 1, 2, 255]]
    ref = write_mask(tmp_path, "three.png", np.array([[0, 1, 3, 255]], np.uint8))
    with pytest.raises(
        BadMaskError, match=r"three\.png holds values \[0, 1, 3, 255\], of which \[3\]"
    ):
        source.read_mask(tmp_path, ref)


def test_an_empty_mask_file_is_named(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(BadImageError, match=r"empty\.png: the file is empty \(0 bytes\)"):
        SegmentationSource().read_mask(tmp_path, "empty.png")


# ------------------------------------------------------ bad samples at setup
def mask_shape(root: Path, name: str) -> tuple[int, int]:
    """``(H, W)`` of the training image ``name`` (what its mask must have)."""
    return read_image(root / "train" / "images" / name, channels=1).shape[:2]


@pytest.fixture
def broken(tmp_path):
    """Fake data with a mask holding 7, an empty test mask and an empty training image."""
    root = make_fake_segmentation(tmp_path / "data", {"train": 10, "test": 2}, 32, 1)
    seven = np.zeros(mask_shape(root, "img_0001.png"), np.uint8)
    seven[3, 3] = 7
    write_mask(root / "train" / "masks", "img_0001.png", seven)
    (root / "test" / "masks" / "img_0000.png").write_bytes(b"")
    (root / "train" / "images" / "img_0004.png").write_bytes(b"")
    return root


BROKEN = ("train/images/img_0001.png", "train/images/img_0004.png", "test/images/img_0000.png")


def test_bad_masks_and_images_end_setup_in_one_line(broken):
    dm = SegmentationDataModule(SegmentationSource(channels=1), root=str(broken), num_workers=0)
    with pytest.raises(BadDataError) as error:
        dm.setup("fit")  # before any batch
    message = str(error.value)
    assert message.startswith("3 bad images: ") and "\n" not in message
    assert all(sample in message for sample in BROKEN)
    assert "holds values [0, 7]" in message and "--data.on_bad_file skip" in message


def test_with_skip_bad_samples_are_left_out_and_counted(broken):
    dm = SegmentationDataModule(
        SegmentationSource(channels=1), root=str(broken), num_workers=0, on_bad_file="skip"
    )
    with pytest.warns(UserWarning, match="3 bad images: .* left out"):
        dm.setup("fit")
    assert sorted(dm.bad) == sorted(BROKEN)
    kept = {p for p, _ in dm.val_samples + dm.pool_samples + dm.test_samples}
    assert not kept & set(BROKEN) and len(kept) == 12 - 3


def test_the_mask_scan_is_cached_until_a_mask_changes(broken, monkeypatch):
    reads = []
    read = SegmentationSource.read_mask_file
    monkeypatch.setattr(
        SegmentationSource,
        "read_mask_file",
        lambda self, path: reads.append(path) or read(self, path),
    )
    first = SegmentationSource(channels=1).bad_samples(broken)
    assert len(reads) == 11 and sorted(first) == sorted(BROKEN)  # 12 masks, one image empty
    reads.clear()
    assert SegmentationSource(channels=1).bad_samples(broken) == first and not reads
    eight = SegmentationSource(class_names=[str(i) for i in range(8)], channels=1)
    assert "train/images/img_0001.png" not in eight.bad_samples(broken)  # 7 is a class there
    empty = np.zeros(mask_shape(broken, "img_0001.png"), np.uint8)
    write_mask(broken / "train" / "masks", "img_0001.png", empty)
    reads.clear()
    assert "train/images/img_0001.png" not in SegmentationSource(channels=1).bad_samples(broken)
    assert len(reads) == 11


@pytest.mark.usefixtures("one_torch_thread")
def test_an_empty_image_through_train(broken, tmp_path):
    """The real command line: one line naming the bad samples, or with ``skip`` a run."""
    config = Path(__file__).parent / "configs" / "segmentation-tiny.yaml"
    args = ["fit", "--config", str(config), "--data.root", str(broken)]
    args += ["--trainer.default_root_dir", str(tmp_path / "run"), "--model.in_channels", "1"]
    args += ["--data.source.init_args.channels", "1"]
    with pytest.raises(SystemExit) as exit_info:
        cli(args)
    message = str(exit_info.value.code)
    assert message.startswith("train: 3 bad images: ") and "\n" not in message
    assert "train/images/img_0004.png (Image train/images/img_0004.png is empty" in message
    with pytest.warns(UserWarning, match="3 bad images"):
        run = cli([*args, "--data.on_bad_file", "skip", "--trainer.fast_dev_run", "1"])
    assert "train/loss" in run.trainer.callback_metrics and len(run.datamodule.bad) == 3
