"""Bad files: a run that meets a non-image, truncated or wrong-channel file ends with one
message naming it (also from dataloader workers), or skips and counts it when asked;
a split file that names files outside the data leaves is refused."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from ssl_core.cli import cli
from ssl_core.data.fake import write_image
from ssl_core.splits import make_split


@pytest.fixture
def bad_root(fake_root, tmp_path):
    """The fake data with a text file and a truncated PNG/JPEG among the training images."""
    root = tmp_path / "data"
    shutil.copytree(fake_root, root)
    (root / "train" / "ant" / "notes.png").write_text("not an image")
    rng = np.random.default_rng(0)
    write_image(root / "train" / "bee" / "cut.jpg", rng.integers(0, 255, (40, 40, 3), np.uint8))
    data = (root / "train" / "bee" / "cut.jpg").read_bytes()
    (root / "train" / "bee" / "cut.jpg").write_bytes(data[: len(data) // 2])
    return root


def fit(tiny_args, root, run_dir, *extra):
    return cli(tiny_args(root, run_dir, "--trainer.limit_val_batches", "1", *extra))


@pytest.mark.parametrize("workers", [0, 2])
def test_bad_file_ends_the_run_with_one_message(tiny_args, bad_root, tmp_path, workers):
    with pytest.raises(SystemExit) as exit_info:
        fit(tiny_args, bad_root, tmp_path, "--data.num_workers", str(workers))
    message = str(exit_info.value.code)
    assert message.startswith("train: Cannot decode image ")
    assert "notes.png" in message or "cut.jpg" in message
    assert "--data.on_bad_file skip" in message
    assert "Traceback" not in message and "\n" not in message


def test_skip_leaves_bad_files_out_and_counts_them(tiny_args, bad_root, tmp_path):
    run = fit(
        tiny_args, bad_root, tmp_path, "--data.on_bad_file", "skip", "--data.num_workers", "2"
    )
    assert run.trainer.state.finished
    assert run.trainer.callback_metrics["train/skipped_files"].item() == 2


def test_wrong_channel_count_is_named(tiny_args, fake_root, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(fake_root, root)
    stack = np.zeros((40, 40, 5), np.uint8)
    write_image(root / "train" / "ant" / "stack.tif", stack)
    with pytest.raises(SystemExit, match=r"stack.tif has 5 channels, expected 3"):
        fit(tiny_args, root, tmp_path / "run", "--data.num_workers", "0")


def test_split_naming_files_outside_the_data_is_refused(tiny_args, fake_root, tmp_path):
    from ssl_core.data import ImageFolder

    listing = ImageFolder().list_samples(fake_root, "train")
    split = make_split("images", [p for p, _ in listing], [y for _, y in listing], 0.5, 0)
    split.labeled[0] = ("../../etc/passwd", 0)
    path = split.save(tmp_path / "split.json")
    args = [
        "--data.split",
        str(path),
        "--data.train_on",
        "labeled",
        "--model",
        "ssl_core.methods.SupCon",
    ]
    with pytest.raises(ValueError, match="not in the training images"):
        fit(tiny_args, fake_root, tmp_path / "run", *args)


def test_network_channels_must_match_the_images(tiny_args, fake_root, tmp_path):
    args = ["--model.init_args.backbone.init_args.in_channels", "1", "--trainer.fast_dev_run", "1"]
    with pytest.raises(SystemExit, match="in_channels is 1 but the data has 3 channels"):
        cli(tiny_args(fake_root, tmp_path, *args))
    assert not list(tmp_path.iterdir())  # the run folder: refused before anything is written
