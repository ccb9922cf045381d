"""The data stage: Imagenette where the pipeline's ``imagenette.source`` says.

``python -m imagenette.acquire --source SOURCE --out projects/imagenette/data/imagenette``

- ``--source download``: fast.ai's official archive (``--variant``; md5 checked) is
  extracted into ``OUT/imagenette2-<variant>/``. OUT is a DVC output, so the data is
  cached and ``dvc push``/``dvc pull`` share it.
- ``--source PATH``: an existing copy in the standard layout, used in place: nothing is
  downloaded, copied, linked or cached. A relative PATH is relative to ``--base``, the
  repository root (where ``params.yaml`` is and where DVC runs the stage).

Either way OUT gets ``manifest.json``, which later stages read: the data root (as they
reach it from the repository root) and the fingerprints of the file lists. Splits carry
the training fingerprint, so a split never silently meets other data.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

from imagenette.dataset import Imagenette
from imagenette.download import (
    BASE_URL,
    VARIANTS,
    DataNotFoundError,
    download_imagenette,
    how_to_provide,
    is_imagenette_root,
)
from ssl_core.splits import fingerprint

MANIFEST = "manifest.json"


def resolve_source(source: str, base: Path) -> Path:
    """The folder of a local source: ``~`` expanded, relative paths taken from ``base``."""
    path = Path(source).expanduser()
    return path if path.is_absolute() else base / path


def acquire(
    source: str, out: Path, variant: str = "160", base: Path = Path("."), base_url: str = BASE_URL
) -> dict:
    """Get the data (download or local path), write ``out/manifest.json``; return it.

    Raises:
        DataNotFoundError: the local path holds no Imagenette, or the download failed.
    """
    out, base = Path(out), Path(base)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    if source == "download":
        if variant not in VARIANTS:
            raise ValueError(
                f"Unknown Imagenette variant {variant!r}; choose from {sorted(VARIANTS)}"
            )
        folder = VARIANTS[variant][0].removesuffix(".tgz")  # the archive's top folder
        root = download_imagenette(out / folder, variant, base_url)
    else:
        root = resolve_source(source, base)
        if not is_imagenette_root(root):
            raise DataNotFoundError(how_to_provide(root, f"imagenette.source is {source!r}"))
    # as the later stages reach it (from the repository root): relative stays relative
    shown = root if root.is_absolute() else Path(os.path.relpath(root))
    train, val = Imagenette(root, "train"), Imagenette(root, "val")
    manifest = {
        "dataset": "imagenette",
        "source": source,
        "variant": variant if source == "download" else None,
        "root": shown.as_posix(),
        "train_images": len(train),
        "val_images": len(val),
        "fingerprint": fingerprint(train.paths),
        "val_fingerprint": fingerprint(val.paths),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def data_root(manifest: str | Path) -> Path:
    """The data root recorded in a manifest (relative to the repository root)."""
    return Path(json.loads(Path(manifest).read_text())["root"])


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="'download' or a path to a copy")
    parser.add_argument("--variant", default="160", choices=sorted(VARIANTS))
    parser.add_argument("--out", type=Path, default=Path("projects/imagenette/data/imagenette"))
    parser.add_argument("--base", type=Path, default=Path("."), help="repository root")
    parser.add_argument("--base-url", default=BASE_URL, help="download mirror")
    ns = parser.parse_args(args)
    try:
        manifest = acquire(ns.source, ns.out, ns.variant, ns.base, ns.base_url)
    except DataNotFoundError as err:
        raise SystemExit(f"imagenette.acquire: {err}") from None
    print(
        f"Imagenette at {manifest['root']}: {manifest['train_images']} train, "
        f"{manifest['val_images']} val images (fingerprint {manifest['fingerprint'][:12]})"
    )


if __name__ == "__main__":
    main()
