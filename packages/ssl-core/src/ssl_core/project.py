"""Project packages and how the one ``train`` command finds the right one.

A project package (``projects/<name>``) declares itself with an entry point::

    [project.entry-points."ssl_core.projects"]
    imagenette = "imagenette:PROJECT"

where ``PROJECT = Project(name="imagenette", root=...)``. ssl-core owns the only ``train``
console script: uv installs all workspace members into one venv, where console scripts
of the same name from several members overwrite each other (uv issue 12891), so a
``train`` script per project would silently run whichever was installed last.

The project of a ``train`` run is, in this order:

1. ``--project NAME`` on the command line (or the ``SSL_PROJECT`` environment variable);
2. the package of the invoking ``uv run --package NAME`` (read from the parent process);
3. the project whose directory contains the current directory;
4. the only installed project.

Anything else is an error that lists the installed projects.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from importlib.metadata import entry_points
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
    #: The project's data source class (:class:`ssl_core.data.ImageFolder` or a
    #: subclass): what the generic ``acquire`` and ``splits`` commands read.
    source: type | None = None

    @property
    def config_dir(self) -> Path:
        return self.root / "configs"

    def config(self, name: str | None = None) -> Path:
        """Path of a config by file name or stem (``simclr`` or ``simclr.yaml``)."""
        name = name or self.default_config
        path = self.config_dir / (name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
        if not path.is_file():
            if not self.config_dir.is_dir():  # seen with a wheel installed outside the repo
                raise MissingInputError(
                    f"No config {path}: {self.config_dir} does not exist. A project's configs "
                    f"live in its source folder (projects/{self.name}/configs); install it from "
                    "the workspace (`uv sync`, editable) or pass --config PATH/TO/CONFIG.yaml"
                )
            available = sorted(p.name for p in self.config_dir.glob("*.yaml"))
            raise MissingInputError(f"No config {path}. {self.name} has: {available}")
        return path


def project_source(project: Project):
    """An instance of the project's data source (its defaults)."""
    if project.source is None:
        raise ProjectResolutionError(f"Project {project.name} declares no data source")
    return project.source()


class ProjectResolutionError(InputError, RuntimeError):
    """No project, or more than one, fits the invocation."""


def installed_projects() -> dict[str, Project]:
    """All projects declared through the ``ssl_core.projects`` entry point group."""
    projects = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        project = ep.load()
        if not isinstance(project, Project):
            raise TypeError(f"Entry point {ep.value} is not an ssl_core Project")
        projects[project.name] = project
    return projects


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


def parent_argv(pid: int | None = None) -> list[str]:
    """Command line of the parent process (Linux ``/proc``; ``ps`` elsewhere)."""
    pid = os.getppid() if pid is None else pid
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return [a.decode(errors="replace") for a in raw.split(b"\0") if a]
    except OSError:
        pass
    try:
        out = subprocess.run(
            ["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, timeout=5
        ).stdout
        return shlex.split(out.strip())
    except (OSError, ValueError, subprocess.SubprocessError):
        return []


def resolve_project(
    explicit: str | None = None,
    projects: dict[str, Project] | None = None,
    cwd: Path | None = None,
    invoking_argv: list[str] | None = None,
) -> Project:
    """Find the project of this run (see the module docstring for the order)."""
    projects = installed_projects() if projects is None else projects
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
        try:
            return by_name[_normalize(name)]
        except KeyError:
            raise ProjectResolutionError(
                f"{source} names '{name}', which is no project. {hint}"
            ) from None

    explicit = explicit or os.environ.get("SSL_PROJECT")
    if explicit:
        return pick(explicit, "--project")
    invoking = uv_package_from_argv(parent_argv() if invoking_argv is None else invoking_argv)
    if invoking and _normalize(invoking) in by_name:
        return by_name[_normalize(invoking)]
    cwd = (cwd or Path.cwd()).resolve()
    for project in projects.values():
        if cwd == project.root.resolve() or project.root.resolve() in cwd.parents:
            return project
    if len(projects) == 1:
        return next(iter(projects.values()))
    raise ProjectResolutionError(f"Which project should `train` run? {hint}")
