"""``new-project``: a new dataset project package in a few seconds (docs/add-a-project.md)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ssl_core.errors import InputError, exits_on_input_errors

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: The files every template shares (``__init__.py``, ``datamodule.py``); a template's own win.
COMMON = TEMPLATES / "common"
TASKS = ("classification", "segmentation")
#: The pairs (stages of ``projects/NAME/dvc.yaml``, one per method) a new project gets.
PAIRS = {
    "classification": ("simclr", "supervised"),
    "segmentation": ("supervised", "fixmatch", "meanteacher", "unimatch"),
}
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: Images (template ``<task>/``) and the modalities of template ``<task>-<modality>/``, whose
#: ``ssl_core.<modality>.fake.write_fake_example(folder, classes, channels, **layout)``
#: writes the example (:func:`layout_of`).
MODALITIES = ("image", "points", "series")
#: ``--channels`` without the option (points take none).
DEFAULT_CHANNELS = {"image": 3, "series": 1}
#: The classes a project gets without ``--classes``: of its task, else of its modality.
DEFAULT_CLASSES = {
    "segmentation": ["background", "foreground"],  # binary: softmax over two
    "points": ["qcd", "top"],
    "image": ["class_a", "class_b"],
    "series": ["class_a", "class_b"],  # the example's; the source reads @classLabel
}
#: The datamodule a task's project subclasses (``common/``'s ``datamodule.py``).
DATAMODULES = {
    "classification": "ssl_core.data.ClassificationDataModule",
    "segmentation": "ssl_core.segmentation.data.SegmentationDataModule",
}
JET_FILES = ["top.npz", "qcd.npz"]
#: A UEA/UCR archive stem (``BasicMotions``, ``PEMS-SF``) and a file name.
STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class NewProjectError(InputError, ValueError):
    """The project cannot be created as asked."""


def camel(name: str) -> str:
    """``my_cells`` -> ``MyCells``."""
    return "".join(part.capitalize() for part in name.split("_"))


def render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def registered(repo: Path, name: str) -> str:
    """The root ``pyproject.toml`` with the project added (not yet written: a workspace
    it does not fit is refused before anything is created)."""
    text = (repo / "pyproject.toml").read_text()
    sources = "[tool.uv.sources]\n"
    if f'"{name}"' not in text:
        if sources not in text:
            raise NewProjectError(f"No '{sources.strip()}' block to add the project to")
        text = text.replace(sources, f"{sources}{name} = {{ workspace = true }}\n", 1)
        text = text.replace(
            'dev = [\n    "ssl-core",\n', f'dev = [\n    "ssl-core",\n    "{name}",\n'
        )
        text = re.sub(
            r"known-first-party = \[(.*?)\]",
            lambda m: f'known-first-party = [{m.group(1)}, "{name}"]',
            text,
        )
    return text


def project_params(name: str, task: str = "classification") -> str:
    """The new project's ``params.yaml`` (``ssl_core.stages`` writes its ``dvc.yaml`` from it)."""
    split = "frac0.50-seed0"
    lines = [
        f"# {name}'s entries of the pipeline: projects/{name}/dvc.yaml is written from this file",
        "# (`uv run python -m ssl_core.stages`). The budget is the root params.yaml's. Paths are",
        "# relative to the repository root. Fields: docs/pipelines.md.",
        *(["task: segmentation"] if task == "segmentation" else []),
        f"source: projects/{name}/example  # made by new-project: point it at your data",
        'variant: ""',
        "splits: {fractions: [0.5, 1.0], seeds: [0]}",
        "# the untrained network, embedded (classification) or its masks scored (segmentation)",
        f"random_init: {{baseline: supervised, split: {split}}}",
        "pairs:",
        *[f"  {method}: {{split: {split}}}" for method in PAIRS[task]],
    ]
    return "\n".join(lines) + "\n"


def write_example(
    example: Path, classes: list[str], channels: int | None, task: str, modality: str, layout: dict
) -> Path:
    """The tiny example dataset, labeled and unlabeled as real data is (docs/add-a-project.md;
    another modality: its writer of :data:`MODALITIES`)."""
    if modality != "image":
        import importlib

        fake = importlib.import_module(f"ssl_core.{modality}.fake")
        return fake.write_fake_example(example, classes, channels, **layout)
    if task == "segmentation":
        from ssl_core.segmentation.data import make_fake_segmentation

        return make_fake_segmentation(example, {"train": 16, "test": 4}, 64, channels, unlabeled=16)
    from ssl_core.data.fake import make_fake_image_folder

    splits = {"train": 8, "test": 3}
    return make_fake_image_folder(example, classes, splits, 40, channels, unlabeled=20)


def layout_of(
    name: str,
    modality: str,
    classes: list[str],
    dataset: str | None = None,
    files: list[str] | None = None,
    signal_class: str | None = None,
) -> dict:
    """The file names of a modality's data, checked: series ``{"dataset": STEM}``
    (default ``name``), points ``{"files": [...]}`` (default :data:`JET_FILES`), images
    ``{}``. An option of another modality is refused."""
    given = {"--dataset": dataset, "--files": files, "--signal-class": signal_class}
    own = {"series": ("--dataset",), "points": ("--files", "--signal-class")}.get(modality, ())
    for option, value in given.items():
        if value is not None and option not in own:
            users = "series" if option == "--dataset" else "points"
            raise NewProjectError(f"{option} is for --modality {users}, not {modality}")
    if modality == "series":
        dataset = name if dataset is None else dataset
        if not STEM.match(dataset) or re.search(r"_(TRAIN|TEST)(\.ts)?$", dataset):
            raise NewProjectError(
                f"--dataset {dataset!r}: the files' stem, e.g. BasicMotions for "
                "BasicMotions_TRAIN.ts and BasicMotions_TEST.ts (letters, digits, '_', '-', '.')"
            )
        return {"dataset": dataset}
    if modality == "points":
        files = list(files or JET_FILES)
        for f in files:
            if not STEM.match(f) or not f.endswith(".npz"):
                raise NewProjectError(f"--files: {f!r} is no .npz file name (e.g. top.npz)")
        if len(set(files)) < len(files):
            raise NewProjectError(f"--files names a file twice: {files}")
        if signal_class is not None and signal_class not in classes:
            raise NewProjectError(
                f"--signal-class {signal_class!r} is none of the classes {classes}"
            )
        return {"files": files}
    return {}


def new_project(
    name: str,
    task: str = "classification",
    channels: int | None = None,
    classes: list[str] | None = None,
    repo: Path = Path("."),
    modality: str = "image",
    dataset: str | None = None,
    files: list[str] | None = None,
    signal_class: str | None = None,
) -> Path:
    """Create ``repo/projects/name`` (docs/add-a-project.md; :func:`main`'s options, of
    which these are the values); return its folder."""
    if not NAME.match(name):
        raise NewProjectError(
            f"{name!r}: use lowercase letters, digits and '_', starting with a letter "
            "(it is the package's import name and distribution name)"
        )
    if task not in TASKS:
        raise NewProjectError(f"task must be one of {TASKS}, not {task!r}")
    if modality not in MODALITIES:
        raise NewProjectError(f"modality must be one of {MODALITIES}, not {modality!r}")
    template = TEMPLATES / (task if modality == "image" else f"{task}-{modality}")
    if not template.is_dir():
        raise NewProjectError(f"no {task} template for {modality} data ({template.name})")
    if modality not in DEFAULT_CHANNELS and channels is not None:
        raise NewProjectError(
            f"--channels does not apply to --modality {modality}: every particle has the "
            "features ssl_core.points computes from its four-momentum"
        )
    channels = DEFAULT_CHANNELS.get(modality) if channels is None else channels
    if channels is not None and channels < 1:
        raise NewProjectError(f"channels must be >= 1, not {channels}")
    pinned = list(classes) if classes else None  # series: else the file's @classLabel list
    classes = pinned or DEFAULT_CLASSES["segmentation" if task == "segmentation" else modality]
    if len(classes) < 2:
        raise NewProjectError(
            f"--classes: a {task} project tells 2 classes apart at least, not {classes}"
        )
    for c in classes:  # what a folder, a ``.ts`` label or a tuple cannot hold
        if not c or re.search(r"[\s/:,]", c):
            raise NewProjectError(f"class name {c!r}: no spaces, '/', ':' or ','")
    if repeated := sorted({c for c in classes if classes.count(c) > 1}):
        raise NewProjectError(f"--classes names {repeated} more than once")
    layout = layout_of(name, modality, classes, dataset, files, signal_class)
    repo = Path(repo)
    if not (repo / "pyproject.toml").is_file() or not (repo / "params.yaml").is_file():
        raise NewProjectError(
            f"{repo.resolve()} is no workspace root (pyproject.toml, params.yaml)"
        )
    target = repo / "projects" / name
    if target.exists():
        raise NewProjectError(f"{target} exists already")
    updates = {
        repo / "pyproject.toml": registered(repo, name),
        target / "params.yaml": project_params(name, task),
    }
    module, datamodule = DATAMODULES[task].rsplit(".", 1)
    values = {"name": name, "Name": camel(name), "classes": repr(tuple(classes)), "task": task}
    values |= {"modality": modality, "default_config": f"{PAIRS[task][0]}.yaml"}
    values |= {"datamodule_module": module, "DataModule": datamodule}
    if channels is not None:
        values["channels"] = str(channels)
        values["mean"] = repr((0.5,) * channels)
        values["std"] = repr((0.25,) * channels)
    if modality == "series":
        values["dataset"] = layout["dataset"]
        values["series_classes"] = repr(tuple(pinned) if pinned else None)
    if modality == "points":
        values["files"] = repr(tuple(layout["files"]))
        values["signal"] = repr(signal_class or classes[-1])
    files = {p.relative_to(root): p for root in (COMMON, template) for p in root.rglob("*")}
    rendered = {}
    for relative, path in sorted(files.items()):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        text = path.read_text()
        unknown = set(re.findall(r"\{\{(\w+)\}\}", text)) - set(values)
        if unknown:  # a bug of the template, not the user's input: keep its traceback
            raise RuntimeError(f"{path} has keys {sorted(unknown)} that {modality} does not fill")
        relative = render(str(relative).replace("__name__", name), values)
        rendered[target / relative] = render(text, values)
    for out, text in rendered.items():
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    write_example(target / "example", classes, channels, task, modality, layout)
    for path, text in updates.items():
        path.write_text(text)
    tidy(target, repo)
    # its pipeline, and the root summary that reads it (no other project's file changes)
    from ssl_core.stages import PIPELINE, project_pipeline, root_pipeline

    (target / PIPELINE).write_text(project_pipeline(repo, name))
    (repo / PIPELINE).write_text(root_pipeline(repo))
    return target


def tidy(target: Path, repo: Path) -> None:
    """Sort the rendered imports and format the files with ruff, if it is there (where the
    project's name sorts against ``ssl_core`` depends on the name)."""
    import shutil
    import subprocess
    import sys

    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff:
        for command in (["check", "--fix", "--select", "I"], ["format"]):
            subprocess.run([ruff, *command, "--quiet", str(target)], cwd=repo, capture_output=True)


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="new-project", description="Create projects/NAME: a dataset project of ssl-core."
    )
    parser.add_argument("name", help="package name (lowercase, digits, _)")
    parser.add_argument("--task", default="classification", choices=TASKS)
    parser.add_argument("--modality", default="image", choices=MODALITIES)
    parser.add_argument(
        "--channels",
        type=int,
        help="image: channels per image (1, 3, any; default 3); series: dimensions per "
        "series, the .ts files' @dimensions (default 1); points: does not apply (a "
        "particle's features are computed from its four-momentum)",
    )
    parser.add_argument(
        "--classes",
        nargs="+",
        help="class names in label order (image: the class folders, default class_a "
        "class_b; segmentation: background foreground; series: the .ts labels, default "
        "the training file's @classLabel list; points: the labels 0, 1, ... of the files, "
        "default qcd top)",
    )
    parser.add_argument(
        "--dataset",
        metavar="STEM",
        help="series: the UEA/UCR files' stem: the source reads STEM_TRAIN.ts and "
        "STEM_TEST.ts (default: NAME)",
    )
    parser.add_argument(
        "--files",
        nargs="+",
        metavar="FILE.npz",
        help="points: the jet files under the data root (default: top.npz qcd.npz)",
    )
    parser.add_argument(
        "--signal-class",
        metavar="CLASS",
        help="points: the positive class of ROC AUC and background rejection, one of "
        "--classes (default: the last)",
    )
    parser.add_argument("--repo", type=Path, default=Path("."), help="workspace root")
    ns = parser.parse_args(args)
    with exits_on_input_errors("new-project"):
        target = new_project(**vars(ns))
    first = PAIRS[ns.task][0]
    dataset = target / "src" / ns.name / "dataset.py"
    channels = ns.channels or DEFAULT_CHANNELS.get(ns.modality)
    stem = ns.dataset or ns.name
    detail, files = {
        "image": (f"{channels} channels", None),
        "series": (f"series of {channels} dimensions", f"{stem}_TRAIN.ts and {stem}_TEST.ts"),
        "points": ("jets", " ".join(ns.files or JET_FILES)),
    }[ns.modality]
    adapt = f"Then adapt {dataset} to your files (list_samples)."
    if files:
        adapt = (
            f"Then point --data.root (and `source` in projects/{ns.name}/params.yaml) at the "
            f"folder of {files}; {dataset} names them."
        )
    print(
        f"Created {target} ({ns.task}, {detail}) with a tiny example dataset "
        f"in {target / 'example'}, its pipeline {target / 'dvc.yaml'}, and registered it in "
        "pyproject.toml.\n"
        "Next:\n"
        "  uv sync\n"
        f"  uv run --package {ns.name} train fit --config {first}-cpu --trainer.fast_dev_run 1\n"
        f"  uv run pytest projects/{ns.name}\n"
        f"  dvc stage list --all   # projects/{ns.name}/dvc.yaml:data, ...:splits, ...:{first}\n"
        f"{adapt}"
    )


if __name__ == "__main__":
    main()
