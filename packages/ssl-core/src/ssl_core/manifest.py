"""What the data stage records and the splits read: fingerprints, the manifest, the cache
(used by :mod:`ssl_core.acquire` and :mod:`ssl_core.splits`, so neither imports the other)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

MANIFEST = "manifest.json"
#: A project's ``source`` that is no folder: its archive downloaded, or its generator run.
SOURCE_KEYWORDS = ("download", "generate")


def fingerprint(paths: Sequence[str]) -> str:
    """sha256 of the sorted relative file list: identifies a dataset's (labeled) samples."""
    return hashlib.sha256("".join(f"{p}\n" for p in sorted(paths)).encode()).hexdigest()


def cache_dir(kind: str = "splits") -> Path:
    """Where ssl-core keeps what it made from the data (splits made on first use, scans of
    every file): never inside a DVC output."""
    root = os.environ.get("SSL_CORE_CACHE") or Path.home() / ".cache" / "ssl-core"
    return Path(root) / kind


def cached_scan(name: str, root: Path, files: Sequence[str], scan: Callable[[], dict]) -> dict:
    """``scan()`` (a JSON-able dict, e.g. ``{file: problem}``), cached by the files'
    names, sizes and modification times under ``root``: a check that must read every
    file runs once per state of the data, and again after any file changes."""
    h = hashlib.sha256(f"{name}\n{Path(root).resolve()}\n".encode())
    for f in sorted(files):
        stat = os.stat(Path(root) / f)
        h.update(f"{f}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    path = cache_dir("scans") / f"{name}-{h.hexdigest()[:24]}.json"
    if path.is_file():
        return json.loads(path.read_text())
    result = scan()
    write_atomic(path, json.dumps(result))
    return result


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file: two processes writing the same
    file never mix, and a failed write leaves nothing half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    tmp.replace(path)
    return path


def data_root(manifest: str | Path) -> Path:
    """The data root recorded in a manifest (relative to the repository root)."""
    return Path(json.loads(Path(manifest).read_text())["root"])
