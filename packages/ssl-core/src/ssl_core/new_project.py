"""``new-project``: a new dataset project package in a few seconds.

``uv run new-project NAME [--task classification] [--modality image|points|series] [--channels N]``
``[--classes a b ...]``

writes ``projects/NAME`` from the template of the task (``ssl_core/templates/<task>``:
package with its entry point, a source with one marked function to adapt, a fake-data
writer, configs, tests), a tiny example dataset in the layout the user's files must
take (``projects/NAME/example``: the default data root, so the first command works),
and registers the project where the workspace needs it: the root ``pyproject.toml``
(dev group and uv sources, so ``uv sync`` installs it) and ``params.yaml`` (its
entries of the one DVC pipeline: ``data@NAME``, ``splits@NAME`` and a pair per method of
the task, :data:`PAIRS`: classification ``random-init@NAME`` and ``train@NAME-<method>``,
segmentation ``segment@NAME-<method>``). ``dvc.yaml``
is not touched.

Tasks: ``classification`` (a folder per class; SimCLR and the supervised baseline) and
``segmentation`` (images and masks, :mod:`ssl_core.segmentation.data`; the supervised
baseline, FixMatch, Mean Teacher and UniMatch on SMP networks).

Modalities (:data:`MODALITIES`: the template of each, and what writes its example):
``image`` (the default) and ``points`` (particle jets, :mod:`ssl_core.points`:
``classification-points``, fake jets in the real ``top.npz``/``qcd.npz`` layout);
``series`` (classification: series in the UEA/UCR ``.ts`` format,
``classification-series``, :mod:`ssl_core.series`; the example two ``.ts``
files of variable-length series).

Rendering is plain ``{{key}}`` substitution (no template engine to learn); the
template files are ordinary files of the package, readable as they are.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ssl_core.errors import InputError, exits_on_input_errors

TEMPLATES = Path(__file__).resolve().parent / "templates"
TASKS = ("classification", "segmentation")
#: The DVC pairs (``train@`` or ``segment@NAME-<method>``) a new project of each task gets.
PAIRS = {
    "classification": ("simclr", "supervised"),
    "segmentation": ("supervised", "fixmatch", "meanteacher", "unimatch"),
}
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: Modality -> (template folder, ``module:function`` writing the example into a folder;
#: ``None``: the task's image example). A modality is one line here plus its template.
MODALITIES = {
    "image": ("{task}", None),
    "points": ("{task}-points", "ssl_core.points.fake:write_fake_example"),
    "series": ("{task}-series", "ssl_core.series.fake:write_fake_example"),
}


class NewProjectError(InputError, ValueError):
    """The project cannot be created as asked."""


def camel(name: str) -> str:
    """``my_cells`` -> ``MyCells``."""
    return "".join(part.capitalize() for part in name.split("_"))


def render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def python_tuple(items: list[str]) -> str:
    """A tuple literal as ruff format writes it: ``("a", "b")``, ``("a",)``."""
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _insert_into_block(text: str, key: str, lines: list[str]) -> str:
    """Insert ``lines`` at the end of the top-level YAML/TOML block that starts with
    ``key`` (before the next top-level line), keeping every comment of the file."""
    rows = text.splitlines(keepends=True)
    start = next((i for i, r in enumerate(rows) if r.rstrip() == key), None)
    if start is None:
        raise NewProjectError(f"No '{key}' block to add the project to")
    end = start + 1
    while end < len(rows) and (not rows[end].strip() or rows[end][0] in " #\t"):
        end += 1
    # blank lines and top-level comments before the next block belong to that block
    while end > start + 1 and (not rows[end - 1].strip() or rows[end - 1].startswith("#")):
        end -= 1
    return "".join(rows[:end] + [line + "\n" for line in lines] + rows[end:])


def registered(repo: Path, name: str, task: str = "classification") -> dict[Path, str]:
    """The root ``pyproject.toml`` and ``params.yaml`` with the project added (not yet
    written: a workspace they do not fit is refused before anything is created)."""
    out = {}
    pyproject = repo / "pyproject.toml"
    text = pyproject.read_text()
    if f'"{name}"' not in text:
        text = _insert_into_block(text, "[tool.uv.sources]", [f"{name} = {{ workspace = true }}"])
        text = text.replace(
            'dev = [\n    "ssl-core",\n', f'dev = [\n    "ssl-core",\n    "{name}",\n'
        )
        text = re.sub(
            r"known-first-party = \[(.*?)\]",
            lambda m: f'known-first-party = [{m.group(1)}, "{name}"]',
            text,
        )
    out[pyproject] = text
    params = repo / "params.yaml"
    text = params.read_text()
    if not re.search(rf"^  {name}:", text, flags=re.M):
        text = _insert_into_block(
            text,
            "projects:",
            [
                f"  {name}:",
                f"    source: projects/{name}/example  # made by new-project: point it at your data",
                '    variant: ""',
                "    splits: {fractions: [0.5, 1.0], seeds: [0]}",
            ],
        )
        split = "split: frac0.50-seed0"
        # the untrained-network baseline: embeddings (classification) or masks
        block = "random_init:" if task == "classification" else "segmentation_random_init:"
        text = _insert_into_block(text, block, [f"  {name}: {{baseline: supervised, {split}}}"])
        text = _insert_into_block(
            text,
            "pairs:" if task == "classification" else "segmentation_pairs:",
            [
                f"  {name}-{method}: {{project: {name}, method: {method}, {split}}}"
                for method in PAIRS[task]
            ],
        )
    out[params] = text
    return out


def write_example(
    project_dir: Path,
    name: str,
    classes: list[str],
    channels: int,
    task: str = "classification",
    modality: str = "image",
) -> Path:
    """The tiny example dataset, labeled and unlabeled as real data is: 8 train and 3
    test images per class and 20 images without a class under ``unlabeled/``, PNG
    (segmentation: 16 train images with masks, 16 without, 4 test images with masks;
    another modality: its writer of :data:`MODALITIES`)."""
    from ssl_core.data.fake import make_fake_image_folder

    writer = MODALITIES[modality][1]
    if writer is not None:
        import importlib

        module, function = writer.split(":")
        return getattr(importlib.import_module(module), function)(
            project_dir / "example", name, classes, channels
        )

    if task == "segmentation":
        from ssl_core.segmentation.data import make_fake_segmentation

        splits = {"train": 16, "test": 4}
        return make_fake_segmentation(project_dir / "example", splits, 64, channels, unlabeled=16)
    splits = {"train": 8, "test": 3}
    example = project_dir / "example"
    return make_fake_image_folder(example, classes, splits, 40, channels, unlabeled=20)


def new_project(
    name: str,
    task: str = "classification",
    channels: int = 3,
    classes: list[str] | None = None,
    repo: Path = Path("."),
    modality: str = "image",
) -> Path:
    """Create ``repo/projects/name``; return its folder (see the module docstring)."""
    if not NAME.match(name):
        raise NewProjectError(
            f"{name!r}: use lowercase letters, digits and '_', starting with a letter "
            "(it is the package's import name and distribution name)"
        )
    if task not in TASKS:
        raise NewProjectError(f"task must be one of {TASKS}, not {task!r}")
    if modality not in MODALITIES:
        raise NewProjectError(f"modality must be one of {tuple(MODALITIES)}, not {modality!r}")
    template = TEMPLATES / MODALITIES[modality][0].format(task=task)
    if not template.is_dir():
        raise NewProjectError(f"no {task} template for {modality} data ({template.name})")
    if channels < 1:
        raise NewProjectError(f"channels must be >= 1, not {channels}")
    repo = Path(repo)
    if not (repo / "pyproject.toml").is_file() or not (repo / "params.yaml").is_file():
        raise NewProjectError(
            f"{repo.resolve()} is no workspace root (pyproject.toml, params.yaml)"
        )
    target = repo / "projects" / name
    if target.exists():
        raise NewProjectError(f"{target} exists already")
    updates = registered(repo, name, task)
    if task == "segmentation":  # binary: background + foreground (softmax over two)
        classes = list(classes or ["background", "foreground"])
    classes = list(classes or ["class_a", "class_b"])
    values = {
        "name": name,
        "Name": camel(name),
        "channels": str(channels),
        "num_classes": str(len(classes)),
        "classes": python_tuple([f'"{c}"' for c in classes]),
        "mean": python_tuple(["0.5"] * channels),
        "std": python_tuple(["0.25"] * channels),
    }
    for path in sorted(template.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        relative = render(str(path.relative_to(template)).replace("__name__", name), values)
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render(path.read_text(), values))
    write_example(target, name, classes, channels, task, modality)
    for path, text in updates.items():
        path.write_text(text)
    sort_imports(target, repo)
    return target


def sort_imports(target: Path, repo: Path) -> None:
    """Order the rendered imports as the workspace's ruff wants them: where the project's
    name sorts against ``ssl_core`` depends on the name. Skipped if ruff is absent."""
    import shutil
    import subprocess
    import sys

    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff:
        subprocess.run(
            [ruff, "check", "--fix", "--select", "I", "--quiet", str(target)],
            cwd=repo,
            check=False,
            capture_output=True,
        )


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="new-project", description="Create projects/NAME: a dataset project of ssl-core."
    )
    parser.add_argument("name", help="package name (lowercase, digits, _)")
    parser.add_argument("--task", default="classification", choices=TASKS)
    parser.add_argument("--modality", default="image", choices=tuple(MODALITIES))
    parser.add_argument("--channels", type=int, default=3, help="image channels (1, 3, any)")
    parser.add_argument("--classes", nargs="+", help="class names (default: two examples)")
    parser.add_argument("--repo", type=Path, default=Path("."), help="workspace root")
    ns = parser.parse_args(args)
    with exits_on_input_errors("new-project"):
        target = new_project(ns.name, ns.task, ns.channels, ns.classes, ns.repo, ns.modality)
    first = PAIRS[ns.task][0]
    detail = f"{ns.channels} channels" if ns.modality == "image" else f"{ns.modality} data"
    stage = "train" if ns.task == "classification" else "segment"
    print(
        f"Created {target} ({ns.task}, {detail}) with a tiny example dataset "
        f"in {target / 'example'}, and registered it in pyproject.toml and params.yaml.\n"
        "Next:\n"
        "  uv sync\n"
        f"  uv run --package {ns.name} train fit --config {first}-cpu --trainer.fast_dev_run 1\n"
        f"  uv run pytest projects/{ns.name}\n"
        f"  dvc stage list      # data@{ns.name}, splits@{ns.name}, {stage}@{ns.name}-{first}, ...\n"
        f"Then adapt {target / 'src' / ns.name / 'dataset.py'} to your files"
        f"{' (list_samples)' if ns.modality == 'image' else ''}."
    )


if __name__ == "__main__":
    main()
