"""Semi-supervised training on Imagenette: the datamodule's modes, every classifier
method through the real ``train`` command (fast_dev_run on the fake dataset, with the
shipped CPU recipes), fine-tuning from a checkpoint, and the pseudo-label round."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from imagenette.datamodule import ImagenetteDataModule
from imagenette.dataset import Imagenette
from ssl_core.cli import cli
from ssl_core.data import Images
from ssl_core.pseudolabels import main as pseudolabels_main
from ssl_core.splits import LabelSplit, make_split

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.fixture(scope="module")
def split_path(fake_root, tmp_path_factory) -> Path:
    train = Imagenette().list_samples(fake_root, "train")
    paths, labels = [p for p, _ in train], [y for _, y in train]
    split = make_split("imagenette", paths, labels, fraction=0.5, seed=0)
    return split.save(tmp_path_factory.mktemp("splits") / "frac0.50-seed0.json")


def _fit_args(config: str, root: Path, split: Path, out: Path, *extra: str) -> list[str]:
    return [
        "fit", "--config", str(CONFIGS / f"{config}.yaml"),
        "--data.root", str(root), "--data.split", str(split),
        "--data.num_workers", "0", "--data.batch_size", "4", "--data.eval_batch_size", "16",
        "--trainer.default_root_dir", str(out), "--trainer.enable_model_summary", "false",
        "--trainer.fast_dev_run", "1", *extra,
    ]  # fmt: skip


def test_semi_loaders_never_show_a_val_image(fake_root, split_path):
    split = LabelSplit.load(split_path)
    dm = ImagenetteDataModule(
        root=str(fake_root), download=False, modality=Images(32), split=str(split_path),
        train_on="semi", unlabeled_ratio=3, batch_size=4, num_workers=0,
    )  # fmt: skip
    dm.setup("fit")
    # Never an image of the test set (Imagenette's val/) nor of the validation split.
    held_out = {p for p, _ in Imagenette().list_samples(fake_root, "test")}
    held_out |= set(split.validation)
    assert len(held_out) == 30 + 10
    assert set(dm.labeled_set.samples) == set(split.labeled)
    assert set(dm.unlabeled_set.paths) == set(split.unlabeled)
    assert len(split.labeled) == len(split.unlabeled) == 25

    seen_labeled, seen_unlabeled, steps = set(), set(), 0
    for batch, _, _ in dm.train_dataloader():  # CombinedLoader yields (batch, idx, loader idx)
        labeled, unlabeled = batch["labeled"], batch["unlabeled"]
        views, labels, indices = labeled["views"], labeled["label"], labeled["index"]
        u_views, u_labels, u_indices = unlabeled["views"], unlabeled["label"], unlabeled["index"]
        # the semi defaults: a weak view of a labeled image, a weak and a strong one of an
        # unlabeled image; uint8 to the device
        assert len(views) == 1 and len(u_views) == 2 and views[0].dtype == torch.uint8
        assert len(u_indices) == 3 * len(indices)  # mu
        assert (u_labels == -1).all()  # the pool's true labels never reach a method
        for i, y in zip(indices.tolist(), labels.tolist(), strict=True):
            path, label = dm.labeled_set.samples[i]
            assert label == y
            seen_labeled.add(path)
        seen_unlabeled |= {dm.unlabeled_set.samples[i][0] for i in u_indices.tolist()}
        steps += 1
    assert not (seen_labeled | seen_unlabeled) & held_out
    assert all(p.startswith("train/") for p in seen_labeled | seen_unlabeled)
    assert seen_labeled <= {p for p, _ in split.labeled}
    assert seen_unlabeled <= set(split.unlabeled)
    # An epoch is one pass over the longer loader (max_size_cycle), here the labeled one.
    assert steps == max(len(split.labeled) // 4, len(split.unlabeled) // 12) == 6

    dm = ImagenetteDataModule(root=str(fake_root), download=False, split=str(split_path),
                              train_on="labeled", num_workers=0)  # fmt: skip
    dm.setup("fit")
    assert dm.train_set.samples == split.labeled
    with pytest.raises(ValueError, match="needs a label split"):
        ImagenetteDataModule(root=str(fake_root), train_on="semi")


@pytest.mark.parametrize(
    "config",
    ["supervised-cpu", "fixmatch-cpu", "meanteacher-cpu", "pseudolabel-cpu", "semisupcon-cpu"],
)
def test_semi_methods_fast_dev_run(config, fake_root, split_path, tmp_path):
    run = cli(_fit_args(config, fake_root, split_path, tmp_path))
    metrics = run.trainer.callback_metrics
    assert torch.isfinite(metrics["train/loss"])
    assert "val/top1" in metrics and "val/knn_top1" in metrics


def test_finetune_and_linear_probe_from_a_simclr_checkpoint(
    fake_root, split_path, tmp_path, tiny_config
):
    simclr = cli([
        "fit", "--config", str(tiny_config), "--data.root", str(fake_root),
        "--trainer.default_root_dir", str(tmp_path / "simclr"), "--trainer.fast_dev_run", "1",
    ])  # fmt: skip
    ckpt = tmp_path / "simclr.ckpt"
    simclr.trainer.save_checkpoint(ckpt)
    pretrained = {k: v.clone() for k, v in simclr.model.backbone.state_dict().items()}

    probe = cli(_fit_args(
        "finetune-cpu", fake_root, split_path, tmp_path / "probe",
        "--model.freeze_backbone", "true", "--model.backbone.init_args.weights", str(ckpt),
    ))  # fmt: skip
    after = probe.model.backbone.state_dict()
    assert all(torch.equal(after[k], v) for k, v in pretrained.items())  # frozen: BN stats too
    assert "val/top1" in probe.trainer.callback_metrics

    finetune = cli(_fit_args(
        "finetune-cpu", fake_root, split_path, tmp_path / "finetune",
        "--model.backbone.init_args.weights", str(ckpt),
    ))  # fmt: skip
    after = finetune.model.backbone.state_dict()
    assert not all(torch.equal(after[k], v) for k, v in pretrained.items())  # it learned


def test_semi_pseudo_label_round_writes_a_split_the_datamodule_loads(
    fake_root, split_path, tmp_path, tiny_config
):
    cli([
        "predict", "--config", str(tiny_config), "--data.root", str(fake_root),
        "--data.split", str(split_path), "--trainer.default_root_dir", str(tmp_path),
    ])  # fmt: skip
    out = tmp_path / "pseudo.json"
    new = pseudolabels_main([
        str(tmp_path / "embeddings"), "--split", str(split_path), "--out", str(out),
        "--threshold", "0.0", "--k", "5",
    ])  # fmt: skip
    split = LabelSplit.load(split_path)
    loaded = LabelSplit.load(out)
    assert loaded == new and loaded.source.startswith("pseudo-labels")
    assert set(split.labeled) <= set(loaded.labeled) and len(loaded.labeled) > len(split.labeled)

    dm = ImagenetteDataModule(root=str(fake_root), download=False, split=str(out),
                              train_on="labeled", num_workers=0)  # fmt: skip
    dm.setup("fit")  # checks the fingerprint
    assert dm.train_set.samples == loaded.labeled
    assert len(dm.bank_set) == len(loaded.labeled)


@pytest.mark.parametrize(
    ("config", "train_on"), [("fixmatch-cpu", "labeled"), ("supervised-cpu", "all")]
)
def test_semi_methods_refuse_the_wrong_training_data(
    config, train_on, fake_root, split_path, tmp_path
):
    # Supervised on train_on=all would read the labels of the split's unlabeled images.
    with pytest.raises(ValueError, match="set data.train_on"):
        cli(_fit_args(config, fake_root, split_path, tmp_path, "--data.train_on", train_on))
