"""Imagenette's classifier recipes on a folder of another class count: the classifier
takes its size from the data (``num_classes`` is not in the recipes), a checkpoint of
such a head loads back, and a ``num_classes`` that contradicts the data stops the run
in one line before anything is written.

The data is a 3-class folder given through the generic ``ssl_core.data.ImageFolder``
source in YAML (the recipe's Imagenette datamodule replaced), 2 optimizer steps.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from ssl_core.cli import main
from ssl_core.data.fake import make_fake_image_folder
from ssl_core.methods import FixMatch, Supervised

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RECIPES = {"supervised-cpu": ("labeled", Supervised), "fixmatch-cpu": ("semi", FixMatch)}


@pytest.fixture(scope="module")
def three_classes(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("three") / "folders"
    return make_fake_image_folder(root, ("ant", "bee", "cat"), {"train": 8, "test": 2}, size=36)


def data_config(path: Path, root: Path, train_on: str) -> Path:
    """A ``data:`` section with the generic datamodule on ``ImageFolder``."""
    data = {
        "class_path": "ssl_core.data.ClassificationDataModule",
        "init_args": {
            "source": {"class_path": "ssl_core.data.ImageFolder"},
            "root": str(root),
            "split": "frac0.50-seed0",
            "train_on": train_on,
            "modality": {"class_path": "ssl_core.data.Images", "init_args": {"size": 32}},
            "batch_size": 4,
            "eval_batch_size": 8,
            "unlabeled_ratio": 1,
            "num_workers": 0,
        },
    }
    path.write_text(yaml.safe_dump({"data": data}))
    return path


def args(recipe: str, root: Path, run_dir: Path, *extra: str, subcommand="fit") -> list[str]:
    train_on = RECIPES[recipe][0]
    data = data_config(run_dir.parent / f"{recipe}-data.yaml", root, train_on)
    return [
        "--project",
        "imagenette",
        subcommand,
        "--config",
        recipe,
        "--config",
        str(data),
        "--trainer.default_root_dir",
        str(run_dir),
        *extra,
    ]


FIT = ["--trainer.max_steps", "2", "--trainer.val_check_interval", "2"]


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_recipe_sizes_its_classifier_from_the_data(recipe, three_classes, tmp_path):
    run_dir = tmp_path / "run"
    main(args(recipe, three_classes, run_dir, *FIT))
    [last] = run_dir.rglob("last.ckpt")
    checkpoint = torch.load(last, map_location="cpu", weights_only=False)
    assert checkpoint["global_step"] == 2
    assert checkpoint["state_dict"]["classifier.weight"].shape[0] == 3
    assert checkpoint["hyper_parameters"]["num_classes"] == 3

    # the checkpoint of a head built from the data loads by itself ...
    model = RECIPES[recipe][1].load_from_checkpoint(last, map_location="cpu")
    assert model.classifier.out_features == 3
    # ... and through `train validate --ckpt_path` (the head is built at setup, then the
    # checkpoint restored into it)
    main(
        args(
            recipe, three_classes, tmp_path / "val", "--ckpt_path", str(last), subcommand="validate"
        )
    )


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_a_class_count_the_data_does_not_have_is_one_line(recipe, three_classes, tmp_path):
    run_dir = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        main(args(recipe, three_classes, run_dir, "--model.num_classes", "10", *FIT))
    message = str(exit_info.value.code)
    assert "\n" not in message
    assert "model.num_classes is 10 but the data has 3 classes" in message
    assert not run_dir.exists()  # nothing written: no run folder, config or checkpoint


def test_a_head_without_data_takes_the_checkpoints_size(three_classes, tmp_path):
    """A model with no datamodule to size it (``num_classes`` unset) gets the head of the
    weights it loads; a head of another size is refused in one line."""
    run_dir = tmp_path / "run"
    main(args("supervised-cpu", three_classes, run_dir, *FIT))
    [last] = run_dir.rglob("last.ckpt")
    state = torch.load(last, map_location="cpu", weights_only=False)["state_dict"]
    model = Supervised()
    assert getattr(model, "classifier", None) is None
    model.load_state_dict(state)
    assert model.classifier.out_features == 3 and model.hparams.num_classes == 3
    assert torch.equal(model.classifier.weight, state["classifier.weight"])
    with pytest.raises(ValueError, match="checkpoint's classifier has 3 classes .* has 5"):
        Supervised(num_classes=5).load_state_dict(state)
