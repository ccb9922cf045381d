"""Which source files of ssl-core and the project a run uses.

A killed DVC stage resumes only when nothing that decides its run changed
(:func:`ssl_core.pipeline.stage_key`). "Its code" is not every file of ssl-core: a
change to the docs, to another method or to ``evaluate/`` must not restart a stage
that trains SimCLR. This module follows the imports, statically (``ast``, nothing is
executed), from the classes a run's configs name (``class_path: ...``) and the ``train``
command itself, through the files of the given packages.

What counts as used:

- the module of every class a config names, and every module it imports, at any depth,
  in functions too (a lazy import runs when the function does);
- ``from package import Name`` where ``Name`` is a re-export of the package's
  ``__init__``: the package's ``__init__.py`` and the module that defines ``Name``,
  not the package's other modules (``ssl_core.methods`` imports every method; a run of
  one method uses one). Lazy packages that map names to modules in a dict (as
  ``ssl_core.segmentation`` does) are followed the same way.

The standard library does not write this (``modulefinder`` imports nothing but follows
every import of an ``__init__``, so one method's run would depend on all methods).
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterable
from pathlib import Path

CLASS_PATH = re.compile(r"class_path:\s*([A-Za-z_][\w.]*)")


def _package_dir(top: str) -> Path | None:
    """The directory of the top-level package ``top`` (without importing it)."""
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


class _Finder:
    """Resolves dotted names to files of the packages ``roots`` and walks imports."""

    def __init__(self, roots: Iterable[str]) -> None:
        self.dirs = {top: d for top in roots if (d := _package_dir(top)) is not None}
        self.used: set[Path] = set()

    # --------------------------------------------------------------- resolution
    def module_file(self, name: str) -> Path | None:
        """The file of module ``name`` (a package's ``__init__.py``), if one of ours."""
        top, *rest = name.split(".")
        if top not in self.dirs:
            return None
        path = self.dirs[top].joinpath(*rest)
        if (path / "__init__.py").is_file():
            return path / "__init__.py"
        if path.with_suffix(".py").is_file():
            return path.with_suffix(".py")
        return None

    def object_file(self, dotted: str) -> None:
        """Mark the module defining ``dotted`` (a module, or ``module.Name``)."""
        if self.module_file(dotted):
            self.visit_module(dotted)
            return
        module, _, name = dotted.rpartition(".")
        if module and self.module_file(module):
            self.visit_name(module, name)

    # ------------------------------------------------------------------ walking
    def visit_module(self, module: str) -> None:
        """Use a whole module: it and every import in it."""
        path = self.module_file(module)
        if path is None or path in self.used:
            return
        self.used.add(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self._visit_prefixes(alias.name)
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(node, package)
                if base is not None:
                    for alias in node.names:
                        self.visit_name(base, alias.name)

    def visit_name(self, module: str, name: str) -> None:
        """Use ``name`` of ``module``: a submodule, or what the module defines or
        re-exports (for a package, only the module that provides ``name``)."""
        self._visit_parents(module)
        if self.module_file(f"{module}.{name}"):
            self.visit_module(f"{module}.{name}")
            return
        path = self.module_file(module)
        if path is None:
            return
        if path.name != "__init__.py":
            self.visit_module(module)
            return
        self.used.add(path)  # the package's __init__ runs; follow only ``name``'s source
        source = self._reexport(path, module, name)
        if source is None:
            self.visit_module(module)  # defined in __init__ itself, or unknown: all of it
        else:
            self.visit_name(*source)

    def _reexport(self, init: Path, package: str, name: str) -> tuple[str, str] | None:
        """Where ``package/__init__.py`` takes ``name`` from: ``(module, name)``."""
        tree = ast.parse(init.read_text(), str(init))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        base = self._absolute(node, package)
                        return (base, alias.name) if base else None
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                for key, value in zip(node.value.keys, node.value.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == name
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):  # a lazy package: {"Name": "submodule"}
                        return f"{package}.{value.value}", name
        return None

    def _absolute(self, node: ast.ImportFrom, package: str) -> str | None:
        if node.level == 0:
            return node.module
        parts = package.split(".")
        if node.level > 1:
            parts = parts[: -(node.level - 1)]
        return ".".join([*parts, node.module] if node.module else parts)

    def _visit_prefixes(self, dotted: str) -> None:
        """``import a.b.c`` runs ``a``, ``a.b`` and ``a.b.c``."""
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):
            path = self.module_file(".".join(parts[:i]))
            if path is not None and path.name == "__init__.py":
                self.used.add(path)
        self.visit_module(dotted)

    def _visit_parents(self, module: str) -> None:
        parts = module.split(".")
        for i in range(1, len(parts)):
            path = self.module_file(".".join(parts[:i]))
            if path is not None:
                self.used.add(path)


def class_paths(configs: Iterable[Path]) -> list[str]:
    """Every ``class_path: a.b.C`` written in the config files ``configs``."""
    found: list[str] = []
    for config in configs:
        found += CLASS_PATH.findall(Path(config).read_text())
    return found


def used_files(entries: Iterable[str], packages: Iterable[str]) -> list[Path]:
    """The source files of ``packages`` that the modules or objects ``entries`` (dotted
    names: ``ssl_core.cli``, ``ssl_core.methods.SimCLR``) use, sorted.

    Args:
        entries: Modules or ``module.Name`` objects a run starts from.
        packages: Top-level packages whose files count (e.g. ``["ssl_core", "imagenette"]``);
            imports of anything else (torch, lightly) are not followed.
    """
    finder = _Finder(packages)
    for entry in entries:
        finder.object_file(entry)
    return sorted(finder.used)
