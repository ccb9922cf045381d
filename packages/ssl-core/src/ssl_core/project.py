"""Project packages and how the one ``train`` command finds the right one (the order:
docs/add-a-project.md, "One `train` for every project")."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import itertools
import os
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from ssl_core.errors import InputError, MissingInputError

ENTRY_POINT_GROUP = "ssl_core.projects"


@dataclass(frozen=True)
class Project:
    """A dataset project.

    Args:
        name: Distribution name (what ``uv run --package NAME`` takes).
        root: The project's directory (holds ``configs/``, ``splits/``, ``data/``).
        default_config: Config used when ``train`` is given none.
    """

    name: str
    root: Path
    default_config: str = "simclr.yaml"
    #: The project's data source class: what the ``acquire`` and ``splits`` commands read.
    source: type | None = None

    @property
    def config_dir(self) -> Path:
        return self.root / "configs"

    def config(self, name: str | None = None) -> Path:
        """Path of a config by file name or stem (``simclr`` or ``simclr.yaml``): the
        project's own or ssl-core's recipe of it (:func:`recipe`)."""
        name = name or self.default_config
        path = self.config_dir / (name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
        if not self.config_dir.is_dir():  # seen with a wheel installed outside the repo
            raise MissingInputError(
                f"No config {path}: {self.config_dir} does not exist. A project's configs "
                f"live in its source folder (projects/{self.name}/configs); install it from "
                "the workspace (`uv sync`, editable) or pass --config PATH/TO/CONFIG.yaml"
            )
        found = recipe(self.config_dir, name)
        if found is None:
            available = sorted(p.name for p in self.config_dir.glob("*.yaml"))
            raise MissingInputError(f"No config {path}. {self.name} has: {available}")
        return found


def project_source(project: Project):
    """An instance of the project's data source (its defaults)."""
    if project.source is None:
        raise ProjectResolutionError(f"Project {project.name} declares no data source")
    return project.source()


class ProjectResolutionError(InputError, RuntimeError):
    """No project, or more than one, fits the invocation."""


class BrokenProjectError(ProjectResolutionError):
    """A project package that cannot be imported, or whose entry point is no :class:`Project`."""


def declared_projects() -> dict[str, EntryPoint]:
    """The projects' entry points by name, none of them imported."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _failure(err: Exception) -> str:
    """Where an import failed and why, in one line: ``file:line: Type: message``."""
    if isinstance(err, SyntaxError) and err.filename:
        return f"{err.filename}:{err.lineno}: {type(err).__name__}: {err.msg}"
    machinery = Path(importlib.__file__).resolve().parent  # importlib's own frames say nothing
    frames = [
        frame
        for frame in traceback.extract_tb(err.__traceback__)
        if not frame.filename.startswith("<") and machinery not in Path(frame.filename).parents
    ]
    where = f"{frames[-1].filename}:{frames[-1].lineno}: " if frames else ""
    return f"{where}{type(err).__name__}: {' '.join(str(err).split())}"


def load_project(ep: EntryPoint) -> Project:
    """Import the project of one entry point, or raise :class:`BrokenProjectError` (one
    line naming the file and the error) if it raises or names no :class:`Project`."""
    try:
        project = ep.load()
    except Exception as err:  # the project's own code: whatever it raises on import
        raise BrokenProjectError(
            f"Project {ep.name} cannot be imported ({_failure(err)}): fix it, or run another "
            "project with `train --project NAME`"
        ) from None
    if not isinstance(project, Project):
        raise BrokenProjectError(
            f"Project {ep.name}: its entry point {ep.value} is a {type(project).__name__}, "
            "not an ssl_core.project.Project"
        )
    return project


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def installed_projects(say: Callable[[str], None] = _stderr) -> dict[str, Project]:
    """Every declared project, imported; one that cannot be is left out, said in one line."""
    projects = {}
    for name, ep in declared_projects().items():
        try:
            projects[name] = load_project(ep)
        except BrokenProjectError as err:
            say(f"left out: {err}")
    return projects


def _load(item: Project | EntryPoint) -> Project:
    return item if isinstance(item, Project) else load_project(item)


def _folder(item: Project | EntryPoint) -> Path | None:
    """Where a project lives, found without importing it: its root if loaded, else the
    nearest folder above its package with a ``pyproject.toml``, else the package's."""
    if isinstance(item, Project):
        return item.root.resolve()
    try:
        spec = importlib.util.find_spec(item.module.split(".")[0])  # finds, runs nothing
    except (ImportError, ValueError):
        return None
    origin = spec and (spec.origin or next(iter(spec.submodule_search_locations or []), None))
    if not origin or origin in ("built-in", "frozen"):
        return None
    package = Path(origin).resolve()
    package = package.parent if package.is_file() else package
    for folder in (package, *package.parents):
        if folder.name in ("site-packages", "dist-packages"):
            break  # an installed copy: the workspace around the venv is not its folder
        if (folder / "pyproject.toml").is_file():
            return folder
    return package


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-")


def uv_package_from_argv(argv: list[str]) -> str | None:
    """The ``--package`` of a ``uv run`` command line, if that is what ``argv`` is."""
    names = [Path(a).name for a in argv]
    if "run" not in names or not any(n in ("uv", "uv.exe") for n in names[: names.index("run")]):
        return None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--package" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--package="):
            return arg.split("=", 1)[1]
    return None


def parent_argv() -> list[str]:
    """Command line of the parent process."""
    import psutil

    try:
        return psutil.Process(os.getppid()).cmdline()
    except psutil.Error:
        return []


def resolve_project(
    explicit: str | None = None,
    projects: dict[str, Project | EntryPoint] | None = None,
    cwd: Path | None = None,
    invoking_argv: list[str] | None = None,
    say: Callable[[str], None] | None = None,
) -> Project:
    """Find the project of this run (the order: docs/add-a-project.md) and import
    only it. ``projects`` are entry points or :class:`Project` by name (default: the
    installed ones); ``say`` is told of a broken project left out (default: stderr).

    Raises:
        ProjectResolutionError: No project, or more than one, fits.
        BrokenProjectError: The project found cannot be imported.
    """
    projects = declared_projects() if projects is None else projects
    by_name = {_normalize(n): p for n, p in projects.items()}
    listing = ", ".join(sorted(projects)) or "none"
    hint = (
        f"Installed projects: {listing}. Choose one with `uv run --package NAME train ...` "
        "or `train --project NAME ...`."
    )
    if not projects:
        raise ProjectResolutionError(
            "No ssl-core project package is installed (entry point group "
            f"'{ENTRY_POINT_GROUP}'). Run `uv sync` at the workspace root."
        )

    def pick(name: str, source: str) -> Project:
        if _normalize(name) not in by_name:
            raise ProjectResolutionError(f"{source} names '{name}', which is no project. {hint}")
        return _load(by_name[_normalize(name)])

    explicit = explicit or os.environ.get("SSL_PROJECT")
    if explicit:
        return pick(explicit, "--project")
    invoking = uv_package_from_argv(parent_argv() if invoking_argv is None else invoking_argv)
    if invoking and _normalize(invoking) in by_name:
        return pick(invoking, "uv run --package")
    found = _project_of_folder(projects, (cwd or Path.cwd()).resolve(), say or _stderr)
    if found is not None:
        return found
    if len(projects) == 1:
        return _load(next(iter(projects.values())))
    raise ProjectResolutionError(f"Which project should `train` run? {hint}")


def _project_of_folder(
    projects: dict[str, Project | EntryPoint], cwd: Path, say: Callable[[str], None]
) -> Project | None:
    """The project whose root holds ``cwd``, importing only those whose folder holds it,
    innermost first. One that cannot be imported is raised if no other holds ``cwd``."""
    inside = []
    for item in projects.values():
        folder = _folder(item)
        if folder is not None and (cwd == folder or folder in cwd.parents):
            inside.append((len(folder.parts), item))
    broken: list[BrokenProjectError] = []
    for _, item in sorted(inside, key=lambda pair: -pair[0]):
        try:
            project = _load(item)
        except BrokenProjectError as err:
            broken.append(err)
            continue
        root = project.root.resolve()
        if cwd == root or root in cwd.parents:
            for err in broken:
                say(f"left out: {err}")
            return project
    if broken:
        raise broken[0]
    return None


#: ``# extends: FILE`` / ``# then: FILE`` in a config's leading comment lines.
DIRECTIVE = re.compile(r"^#\s*(extends|then):\s*(\S+)\s*$")
#: ssl-core's recipes (:func:`recipe`), ``<task>/<method>[-cpu].yaml``, and the defaults a
#: project's configs extend unless it has its own (``trainer-cpu.yaml``).
RECIPES = Path(__file__).resolve().parent / "recipes"
#: ``# extends: ssl_core:fixmatch-cpu.yaml``: ssl-core's recipe of a method.
CORE_PREFIX = "ssl_core:"
#: The file that makes a project's configs take ssl-core's recipes: its backbone.
PROJECT_MODEL = "model.yaml"
#: A project's own parts of every experiment (``data[-cpu].yaml``, ...): no method.
PARTS = ("data", "model", "trainer", "smoke")


def extended(config: Path, search: Path | None = None) -> list[str]:
    """``--config`` arguments for ``config``, with what it extends (:data:`DIRECTIVE`)
    before it and what it is followed by (``then``) after it, recursively. FILE is looked
    for in ``search`` (a project's configs folder), beside ``config``, then in
    :data:`RECIPES`; ``ssl_core:NAME`` is ssl-core's recipe NAME for the project's task."""
    if search is None and RECIPES not in Path(config).resolve().parents:
        search = Path(config).parent  # a project's file names its project's parts
    before, after = [], []
    with Path(config).open() as f:
        header = list(itertools.takewhile(lambda line: line.startswith("#"), f))
    for match in filter(None, map(DIRECTIVE.match, header)):
        name = match[2]
        if name.startswith(CORE_PREFIX):  # ssl-core's recipe
            base = task_recipes(search or Path(config).parent) / name.removeprefix(CORE_PREFIX)
        else:  # the project's own file first
            places = [*([Path(search)] if search else []), Path(config).parent, RECIPES]
            base = next((d / name for d in places if (d / name).is_file()), None)
            if base is None:
                raise MissingInputError(
                    f"{config} extends {name}, which is in none of "
                    + ", ".join(str(d) for d in places)
                )
        (before if match[1] == "extends" else after).extend(extended(base, search))
    return [*before, "--config", str(config), *after]


def task_recipes(configs: Path) -> Path:
    """ssl-core's recipes for the task (in ``params.yaml``; default ``classification``) of
    the project whose configs folder is ``configs``."""
    params = Path(configs).parent / "params.yaml"
    return RECIPES / _task(params, params.stat().st_mtime_ns if params.is_file() else 0)


@functools.cache
def _task(params: Path, mtime_ns: int) -> str:
    """The ``task`` of a project's ``params.yaml``, read once per version of the file."""
    import yaml

    entries = (yaml.safe_load(params.read_text()) or {}) if mtime_ns else {}
    return str(entries.get("task", "classification"))


def recipe(configs: Path, name: str) -> Path | None:
    """The config ``name`` (``fixmatch-cpu``) of a project's ``configs`` folder: its own
    file, else ssl-core's recipe for its task when the project has
    :data:`PROJECT_MODEL`, else ``None``."""
    file = name if name.endswith((".yaml", ".yml")) else f"{name}.yaml"
    own = Path(configs) / file
    if own.is_file():
        return own
    core = task_recipes(configs) / file
    return core if (Path(configs) / PROJECT_MODEL).is_file() and core.is_file() else None


def recipe_methods(configs: Path) -> list[str]:
    """The methods a project can run: its own ``<m>.yaml`` with ``<m>-cpu.yaml``, and
    ssl-core's recipes of its task when it takes them."""
    folders = [Path(configs)]
    if (Path(configs) / PROJECT_MODEL).is_file():
        folders.append(task_recipes(configs))
    return sorted(
        {p.stem for d in folders for p in d.glob("*.yaml") if (d / f"{p.stem}-cpu.yaml").is_file()}
        - set(PARTS)
    )
