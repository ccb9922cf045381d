"""Jets: the jet source on fake jets, the datamodule's batches, one step through `train`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from jets import Jets, JetsDataModule
from ssl_core.cli import cli
from ssl_core.points import Points
from ssl_core.points.fake import write_fake_jet_files
from ssl_core.points.features import jet_feature_statistics
from ssl_core.testing import isolated_split_cache  # noqa: F401 (splits made on first use go to tmp)

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    return write_fake_jet_files(tmp_path_factory.mktemp("jets") / "data", per_class=40)


def test_source_lists_jets_with_a_fixed_test_set(fake_root):
    source = Jets()
    train, test = source.list_samples(fake_root, "train"), source.list_samples(fake_root, "test")
    assert len(train) + len(test) == 80 and len(test) == 16  # 20% of every class
    assert {label for _, label in test} == {0, 1}
    assert not {p for p, _ in train} & {p for p, _ in test}
    jet = source.read(fake_root, train[0][0])  # id "top.npz:<row>" or "qcd.npz:<row>"
    assert jet.ndim == 2 and jet.shape[1] == 4 and jet.shape[0] > 0


def test_datamodule_batches(fake_root):
    dm = JetsDataModule(
        root=str(fake_root), batch_size=4, num_workers=0, modality=Points(max_particles=32)
    )
    dm.setup("fit")
    batch = dm.on_after_batch_transfer(next(iter(dm.train_dataloader())), 0)
    assert len(batch["views"]) == 2  # two JetCLR views
    view = batch["views"][0]
    assert view["points"].shape[0] == 4 and view["points"].shape[2] == 7
    assert view["mask"].shape == view["points"].shape[:2] and view["points"].dtype == torch.float32
    bank, queries = dm.val_dataloader()
    assert set(next(iter(queries))["image"]) == {"points", "mask"}
    assert not set(queries.dataset.paths) & set(dm.train_set.paths)


# every method of the project on jets with no method-specific code (the recipes' split,
# n1000-seed0, needs more jets than the fake set has: half of them labeled instead)
@pytest.mark.parametrize(
    "config",
    [
        "simclr-cpu",
        "supcon-cpu",
        "supervised-cpu",
        "fixmatch-cpu",
        "meanteacher-cpu",
        "pseudolabel-cpu",
        "semisupcon-cpu",
    ],
)
def test_one_step_through_train(fake_root, tmp_path, config):
    run = cli(
        [
            "fit",
            "--config",
            str(CONFIGS / f"{config}.yaml"),
            "--data.root",
            str(fake_root),
            "--trainer.fast_dev_run",
            "1",
            "--trainer.default_root_dir",
            str(tmp_path),
            "--data.num_workers",
            "0",
            "--data.batch_size",
            "8",
            "--data.split",
            "frac0.50-seed0",
        ]
    )
    assert math.isfinite(run.trainer.callback_metrics["train/loss_step"].item())
    assert "val/knn_top1" in run.trainer.callback_metrics
    if hasattr(run.model, "classifier"):  # two classes, top the signal: the field's figures
        assert 0.0 <= run.trainer.callback_metrics["val/roc_auc"].item() <= 1.0


def test_a_short_try_of_a_recipe_logs_its_val_metrics(fake_root, tmp_path):
    """``--trainer.max_steps 2`` stops mid-epoch (batch 4; asserted below) and before the
    recipe's ``val_check_interval``: the ``ValidateAtLastStep`` that ``train fit`` adds still
    validates the last step."""
    common = ["--data.root", str(fake_root), "--data.num_workers", "0", "--data.split"]
    common += ["frac0.50-seed0", "--data.batch_size", "4", "--trainer.default_root_dir"]
    common += [str(tmp_path)]
    run = cli(
        [
            "fit",
            "--config",
            str(CONFIGS / "supervised-cpu.yaml"),
            *common,
            "--trainer.max_steps",
            "2",
        ]
    )
    assert run.trainer.global_step == 2 and run.trainer.num_training_batches > 2
    assert "val/knn_top1" in next(tmp_path.rglob("metrics.csv")).read_text()


def test_anomaly_space_of_qcd_jets_scores_top_as_the_anomaly(fake_root, tmp_path):
    """``anomaly-cpu``: trained without top jets; predict + evaluate give anomaly_auroc."""
    from ssl_core.evaluate.run import evaluate

    common = ["--data.root", str(fake_root), "--data.num_workers", "0", "--data.split"]
    common += ["frac0.50-seed0", "--data.batch_size", "8", "--trainer.default_root_dir"]
    common += [str(tmp_path)]
    config = ["--config", str(CONFIGS / "anomaly-cpu.yaml")]
    run = cli(["fit", *config, *common, "--trainer.max_steps", "2"])
    ckpt = tmp_path / "last.ckpt"
    run.trainer.save_checkpoint(ckpt)
    cli(["predict", *config, *common, "--ckpt_path", str(ckpt)])
    metrics = evaluate(tmp_path, umap=False, k=5)
    assert metrics["held_out_classes"] == ["top"] and 0.0 <= metrics["anomaly_auroc"] <= 1.0
    assert "roc_auc" not in metrics  # one class in training: no two-class figures


def test_mass_tagger_scores_the_fixed_test_set(fake_root, tmp_path, capsys):
    """``python -m jets.mass ROOT``: the test jets' masses, the two scores'
    figures, nothing trained."""
    import json

    import numpy as np

    from jets.mass import main, test_masses

    masses, labels = test_masses(fake_root, Jets())
    test = Jets().list_samples(fake_root, "test")
    by_hand = []  # m^2 = E^2 - |p|^2 of the summed constituents, straight from the files
    for sample_id, _ in test:
        name, row = sample_id.split(":")
        with np.load(fake_root / name) as data:
            p4 = data["constituents"][int(row), : data["n_constituents"][int(row)]]
        px, py, pz, e = p4.astype(np.float64).sum(0)
        by_hand.append(np.sqrt(max(e * e - px * px - py * py - pz * pz, 0.0)))
    np.testing.assert_allclose(masses, by_hand, rtol=1e-6)
    assert masses.std() > 0  # not one value for every jet
    assert labels.tolist() == [t for _, t in test]
    main([str(fake_root), "--out", str(tmp_path / "mass.json")])
    figures = json.loads((tmp_path / "mass.json").read_text())
    assert figures["num_test"] == 16 and figures["signal_class"] == 1
    assert 0.0 <= figures["mass"]["roc_auc"] <= 1.0 and "mass_window" in figures
    lo, value, hi = (figures["mass"][f"rejection_eff30{end}"] for end in ("_lo", "", "_hi"))
    # 8 fake QCD jets: none may pass at eps_S = 0.3, and then no interval either
    assert (lo is None and hi is None) if value is None else lo <= value <= hi
    assert json.loads(capsys.readouterr().out) == figures
    with pytest.raises(SystemExit, match="mass: No jet files"):  # one line, no traceback
        main([str(tmp_path / "nowhere")])


def test_a_space_without_top_jets_is_normalised_without_them(fake_root):
    """``exclude_classes: [top]`` (the anomaly space): the feature statistics come from
    the QCD training jets only, so nothing of the anomaly reaches training."""
    dm = JetsDataModule(root=str(fake_root), num_workers=0, exclude_classes=["top"])
    dm.setup("fit")
    jets = dm.source.load(fake_root)
    train = dm.source.list_samples(fake_root, "train")
    mean, std = jet_feature_statistics([jets.read(jets.index(i)) for i, t in train if t == 0])
    assert torch.allclose(dm.mean, torch.from_numpy(mean)) and torch.allclose(
        dm.std, torch.from_numpy(std)
    )
    both = JetsDataModule(root=str(fake_root), num_workers=0)
    both.setup("fit")
    assert not torch.allclose(both.mean, dm.mean)  # the top jets would have moved them


def test_a_backbone_for_other_particle_features_is_refused_in_one_line(fake_root, tmp_path):
    """The set backbones' ``in_features`` is checked against the jets' 7 features, as an
    image backbone's ``in_channels`` against the images' channels."""
    args = ["fit", "--config", str(CONFIGS / "supervised-cpu.yaml"), "--data.root"]
    args += [str(fake_root), "--data.num_workers", "0", "--data.split", "frac0.50-seed0"]
    args += ["--trainer.fast_dev_run", "1", "--trainer.default_root_dir", str(tmp_path)]
    with pytest.raises(SystemExit, match=r"in_features is 5 but the data has 7"):
        cli([*args, "--model.backbone.init_args.in_features", "5"])


def test_jet_image_is_the_pt_share_around_the_axis():
    import numpy as np

    from jets.pictures import jet_image
    from ssl_core.points.features import to_p4

    pt = np.array([300.0, 100.0])  # massless, 0.2 apart in eta, at phi 0
    p4 = to_p4(pt, np.array([0.05, -0.15]), np.zeros(2), np.zeros(2)).astype(np.float32)
    image = jet_image([p4], bins=9, extent=0.45)  # bins 0.1 wide
    assert image.sum() == pytest.approx(1.0, abs=1e-6)
    # the axis is the pT-weighted centre (eta 0.0): particles at +0.05 and -0.15
    rows = np.flatnonzero(image.sum(1))
    assert image.sum(1)[rows].tolist() == pytest.approx([0.25, 0.75], abs=1e-3)
    assert np.flatnonzero(image.sum(0)).tolist() == [4]  # phi 0: the middle column


def test_pictures_of_a_run_show_jet_images_and_the_space_by_mass(fake_root, tmp_path):
    """``python -m jets.pictures OUT --root DATA``: from a run's embeddings (here written by
    hand, with a classifier's logits) and the jets of its test ids."""
    import json

    import numpy as np

    from jets.pictures import main

    test = Jets().list_samples(fake_root, "test")
    train = Jets().list_samples(fake_root, "train")
    rng = np.random.default_rng(0)
    emb = tmp_path / "run" / "embeddings"
    emb.mkdir(parents=True)
    for name, rows in (("train", train), ("test", test)):
        labels = np.array([t for _, t in rows])
        np.savez(
            emb / f"{name}.npz",
            features=rng.normal(size=(len(rows), 8)).astype(np.float32) + labels[:, None],
            labels=labels,
            ids=np.array([i for i, _ in rows]),
            logits=np.stack([-labels, labels], axis=1).astype(np.float32),
        )
    splits = {"train": {"rows": len(train)}, "test": {"rows": len(test)}}
    meta = {"splits": splits, "class_names": ["qcd", "top"], "signal_class": 1}
    (emb / "meta.json").write_text(json.dumps(meta))
    main([str(tmp_path / "run"), "--root", str(fake_root)])
    for name in ("jet_images.png", "embedding_mass.png"):
        assert (tmp_path / "run" / "plots" / name).stat().st_size > 1000
