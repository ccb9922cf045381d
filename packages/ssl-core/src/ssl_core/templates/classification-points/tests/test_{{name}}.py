"""{{Name}}: the jet source on fake jets, the datamodule's batches, one step through `train`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from ssl_core.points import Points
from ssl_core.testing import fit_one_step, isolated_split_cache  # noqa: F401 (splits to tmp)
from {{name}} import {{Name}}, {{Name}}DataModule
from {{name}}.dataset import CLASSES, FILES
from {{name}}.fake import make_fake

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    return make_fake(tmp_path_factory.mktemp("{{name}}") / "data", per_class=40)


def test_source_lists_jets_with_a_fixed_test_set(fake_root):
    source = {{Name}}()
    train, test = source.list_samples(fake_root, "train"), source.list_samples(fake_root, "test")
    assert len(train) + len(test) == 40 * len(CLASSES)
    assert len(test) == 8 * len(CLASSES)  # 20% of every class
    assert {label for _, label in test} == set(range(len(CLASSES)))
    assert not {p for p, _ in train} & {p for p, _ in test}
    assert {p.split(":")[0] for p, _ in train + test} <= set(FILES)  # ids "<file>:<row>"
    jet = source.read(fake_root, train[0][0])
    assert jet.ndim == 2 and jet.shape[1] == 4 and jet.shape[0] > 0


def test_datamodule_batches(fake_root):
    dm = {{Name}}DataModule(
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


@pytest.mark.parametrize("config", ["simclr-cpu", "supervised-cpu", "fixmatch-cpu"])
def test_one_step_through_train(fake_root, tmp_path, config):
    data = {"num_workers": 0, "batch_size": 8}
    run = fit_one_step(CONFIGS / f"{config}.yaml", fake_root, tmp_path, data)
    assert math.isfinite(run.trainer.callback_metrics["train/loss_step"].item())
    assert "val/knn_top1" in run.trainer.callback_metrics
