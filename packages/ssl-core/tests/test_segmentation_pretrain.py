"""The route from the contrastive half to segmentation, through the real command lines:
SimCLR on a segmentation project's own images (:class:`SegmentationImages`, no masks,
test split unseen), its checkpoint as the U-Net encoder of a segmentation fit; and
``--data.on_bad_file`` for segmentation data."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import torch

from ssl_core.cli import cli
from ssl_core.segmentation import SegmentationImages, SegmentationSource
from ssl_core.segmentation.data import make_fake_segmentation

# one intra-op thread (ssl_core.testing): tiny steps gain nothing from two on shared cores
pytestmark = pytest.mark.usefixtures("one_torch_thread")

SEG_CONFIG = Path(__file__).resolve().parent / "configs" / "segmentation-tiny.yaml"


@pytest.fixture(scope="module")
def seg_root(tmp_path_factory) -> Path:
    return make_fake_segmentation(tmp_path_factory.mktemp("seg"), {"train": 12, "test": 3}, 40)


class TwoKinds(SegmentationSource):
    """Fake images in two strata (even and odd file numbers)."""

    strata_names = ("even", "odd")

    def strata(self, root, samples):
        return [int(Path(p).stem.split("_")[-1]) % 2 for p, _ in samples]


def test_segmentation_images_lists_training_images_by_stratum(seg_root):
    images = SegmentationImages(TwoKinds())
    train = images.list_samples(seg_root, "train")
    seg_train = TwoKinds().list_samples(seg_root, "train")
    assert [p for p, _ in train] == [p for p, _ in seg_train]  # the same images, no masks
    assert {y for _, y in train} == {0, 1} and images.class_list(seg_root) == ("even", "odd")
    assert not {p for p, _ in train} & {p for p, _ in images.list_samples(seg_root, "test")}
    assert images.read(seg_root, train[0][0]).shape[2] == 3
    assert images.splits_dir is None  # never the segmentation project's split files


def test_simclr_on_segmentation_images_initialises_a_unet_encoder(
    seg_root, tmp_path, tiny_args, monkeypatch
):
    monkeypatch.setitem(sys.modules, "segpretrain_fake", sys.modules[__name__])  # importable
    source = {
        "class_path": "ssl_core.segmentation.SegmentationImages",
        "init_args": {"source": {"class_path": "segpretrain_fake.TwoKinds"}},
    }
    pretrain = cli(
        tiny_args(
            seg_root,
            tmp_path / "simclr",
            "--data.source",
            json.dumps(source),
            "--data.batch_size",
            "4",
            "--trainer.limit_train_batches",
            "2",
            "--trainer.limit_val_batches",
            "1",
            "--trainer.enable_checkpointing",
            "true",
        )
    )
    assert "val/knn_top1" in pretrain.trainer.callback_metrics  # kNN on the strata
    ckpt = next((tmp_path / "simclr").rglob("*.ckpt"))
    seg = cli(
        [
            "fit",
            "--config",
            str(SEG_CONFIG),
            "--data.root",
            str(seg_root),
            "--trainer.default_root_dir",
            str(tmp_path / "seg"),
            "--model.encoder_name",
            "resnet18",
            "--model.model_kwargs",
            "{}",
            "--model.encoder_weights",
            str(ckpt),
            "--trainer.fast_dev_run",
            "1",
        ]
    )
    theirs = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    conv1 = theirs["backbone.net.conv1.weight"]
    assert seg.model.network.encoder.conv1.weight.shape == conv1.shape
    # one SGD step after loading: close to the pretrained weights, far from a fresh init
    loaded = seg.model.network.encoder.conv1.weight.detach()
    assert (loaded - conv1).abs().max() < 0.05  # a fresh init differs by > 0.1 somewhere


def test_segmentation_bad_files_end_the_run_or_are_skipped(seg_root, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(seg_root, root)
    (root / "train" / "images" / "img_0003.png").write_text("not an image")
    args = [
        "fit",
        "--config",
        str(SEG_CONFIG),
        "--data.root",
        str(root),
        "--trainer.default_root_dir",
        str(tmp_path / "run"),
        "--trainer.max_epochs",
        "1",
        "--data.batch_size",
        "4",
    ]
    with pytest.raises(SystemExit) as exit_info:
        cli(args)
    message = str(exit_info.value.code)
    assert "img_0003.png" in message and "--data.on_bad_file skip" in message
    run = cli([*args, "--data.on_bad_file", "skip"])
    assert run.trainer.state.finished
    assert run.trainer.callback_metrics["train/skipped_files"].item() == 1

    # predict: a skipped test image gets no mask, and the index says the set is incomplete
    (root / "test" / "images" / "img_0001.png").write_text("not an image")
    cli(["predict", *args[1:], "--data.on_bad_file", "skip"])
    index = json.loads((tmp_path / "run" / "masks" / "index.json").read_text())
    assert sorted(m["id"] for m in index["masks"]) == ["img_0000", "img_0002"]
    assert index["complete"] is False and index["dataset_size"] == 3
