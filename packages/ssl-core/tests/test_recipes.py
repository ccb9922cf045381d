"""Recipes written once: a method's recipe in ssl-core (``ssl_core/recipes/<task>/``), a
project's own parts (data, network, trainer) and its departures, composed by ``# extends``
and ``# then`` lines; what ``train --config NAME`` and the pipeline read."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssl_core.errors import MissingInputError
from ssl_core.project import RECIPES, extended, recipe, recipe_methods

from .conftest import REPO_ROOT


def _project(tmp_path: Path, task: str | None = None) -> Path:
    configs = tmp_path / "configs"
    configs.mkdir(parents=True)
    for name in ("data-cpu.yaml", "data.yaml", "model.yaml"):
        (configs / name).write_text("{}\n")
    if task:
        (tmp_path / "params.yaml").write_text(f"task: {task}\n")
    return configs


def _files(args: list[str]) -> list[str]:
    return [Path(a).name if RECIPES not in Path(a).parents else str(Path(a).relative_to(RECIPES))
            for a in args if a != "--config"]  # fmt: skip


def test_a_method_without_a_file_of_its_own_is_ssl_cores_recipe_on_the_projects_parts(tmp_path):
    configs = _project(tmp_path)
    core = recipe(configs, "fixmatch-cpu")
    assert core == RECIPES / "classification" / "fixmatch-cpu.yaml"
    # ssl-core's trainer defaults, the project's data, the method, the project's network
    assert _files(extended(core, configs)) == [
        "trainer-cpu.yaml",
        "data-cpu.yaml",
        "classification/fixmatch-cpu.yaml",
        "model.yaml",
    ]
    assert "fixmatch" in recipe_methods(configs) and "data" not in recipe_methods(configs)


def test_the_projects_own_files_replace_ssl_cores(tmp_path):
    configs = _project(tmp_path)
    (configs / "trainer-cpu.yaml").write_text("trainer: {accelerator: cpu}\n")
    (configs / "fixmatch-cpu.yaml").write_text(
        "# extends: ssl_core:fixmatch-cpu.yaml\nmodel: {init_args: {threshold: 0.9}}\n"
    )
    own = recipe(configs, "fixmatch-cpu")
    assert own == configs / "fixmatch-cpu.yaml"
    args = extended(own, configs)
    assert args[1] == str(configs / "trainer-cpu.yaml")  # the project's, not ssl-core's
    assert _files(args)[2:] == [
        "classification/fixmatch-cpu.yaml",
        "model.yaml",
        "fixmatch-cpu.yaml",
    ]


def test_the_task_picks_the_recipes_and_a_project_without_a_network_takes_none(tmp_path):
    configs = _project(tmp_path / "seg", task="segmentation")
    assert recipe(configs, "unimatch-cpu") == RECIPES / "segmentation" / "unimatch-cpu.yaml"
    assert recipe(configs, "simclr-cpu") is None  # no SimCLR recipe for segmentation
    bare = tmp_path / "bare" / "configs"
    bare.mkdir(parents=True)
    assert recipe(bare, "fixmatch-cpu") is None  # no model.yaml: only its own files
    assert recipe_methods(bare) == []


def test_a_missing_part_names_where_it_was_looked_for(tmp_path):
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "model.yaml").write_text("{}\n")
    with pytest.raises(MissingInputError, match="extends data-cpu.yaml, which is in none of"):
        extended(recipe(configs, "simclr-cpu"), configs)


def test_every_recipe_of_ssl_core_names_the_parts_a_project_gives():
    for path in sorted(RECIPES.glob("*/*.yaml")):
        head = path.read_text().splitlines()[:3]
        budget = "cpu" if path.stem.endswith("-cpu") else "gpu"
        suffix = "-cpu" if budget == "cpu" else ""
        assert head == [
            f"# extends: trainer-{budget}.yaml",
            f"# extends: data{suffix}.yaml",
            "# then: model.yaml",
        ], path
        assert (RECIPES / path.parent.name / f"{path.stem.removesuffix('-cpu')}-cpu.yaml").is_file()


def test_the_projects_take_ssl_cores_recipes():
    """Every project states its data and network once; a file named as one of ssl-core's
    recipes departs from that recipe (and says so on its first line)."""
    from ssl_core.project import task_recipes

    for project in ("imagenette", "dsb2018", "jets", "gwak", "vowels"):
        configs = REPO_ROOT / "projects" / project / "configs"
        assert (configs / "model.yaml").is_file(), project
        for core in task_recipes(configs).glob("*.yaml"):
            own = configs / core.name
            if own.is_file():
                first = own.read_text().splitlines()[0]
                assert first == f"# extends: ssl_core:{core.name}", own
