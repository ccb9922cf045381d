"""The route from the contrastive half to segmentation, through the real command lines:
SimCLR on a segmentation project's own images (its source in the classification
datamodule, no masks read, test split unseen), its checkpoint as the U-Net encoder of a segmentation fit; and
``--data.on_bad_file`` for segmentation data."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import torch

from ssl_core.cli import cli
from ssl_core.data import ClassificationDataModule
from ssl_core.segmentation import SegmentationSource
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


def test_a_segmentation_source_serves_classification_by_stratum(seg_root):
    dm = ClassificationDataModule(TwoKinds(), root=str(seg_root), num_workers=0)
    dm.setup("fit")
    train = dm.train_set.samples
    seg_train = TwoKinds().list_samples(seg_root, "train")
    seen = {p for p, _ in train} | {p for p, _ in dm.val_samples}
    assert seen == {p for p, _ in seg_train}  # the same images, labels are the strata
    assert {y for _, y in train} == {0, 1} and dm.class_names == ("even", "odd")
    assert dm.num_classes == 2 and not seen & {p for p, _ in dm.test_samples}
    assert dm.train_set[0]["views"][0].shape[0] == 3  # images only: no mask is read


def test_simclr_on_segmentation_images_initialises_a_unet_encoder(
    seg_root, tmp_path, tiny_args, monkeypatch
):
    monkeypatch.setitem(sys.modules, "segpretrain_fake", sys.modules[__name__])  # importable
    source = {"class_path": "segpretrain_fake.TwoKinds"}
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
