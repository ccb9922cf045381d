"""The DVC data stage of any project: its data where ``source`` in
``projects/<project>/params.yaml`` says (``docs/pipelines.md``; the splits stage is
:mod:`ssl_core.splits`)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

from ssl_core.data.download import download_archive
from ssl_core.data.sources import DataNotFoundError, Source
from ssl_core.errors import exits_on_input_errors
from ssl_core.manifest import MANIFEST, SOURCE_KEYWORDS, fingerprint


def acquire(
    dataset: Source, source: str, out: Path, variant: str | None = None, mirror: str | None = None
) -> dict:
    """Get the data (download or local path), write ``out/manifest.json``; return it.
    ``mirror``: a URL folder that serves the archive under its own file name.

    Raises:
        DataNotFoundError: the local path holds no data, or the download failed.
    """
    out = Path(out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if source == "download":
        if not dataset.archives:
            raise DataNotFoundError(f"{dataset.name} has no archive to download; give a path")
        variant = variant or next(iter(dataset.archives))
        if variant not in dataset.archives:
            raise ValueError(f"Unknown variant {variant!r}; choose from {sorted(dataset.archives)}")
        archive = dataset.archives[variant]
        if mirror:  # the same file name under the mirror's folder
            archive = replace(archive, url=f"{mirror.rstrip('/')}/{archive.url.rsplit('/', 1)[-1]}")
        root = download_archive(dataset, archive, out / archive.folder)
    elif source == "generate":  # a source that makes its data: under $SSL_CORE_CACHE, not OUT
        dataset, root = dataset.generated(variant)
    else:
        root = Path(source).expanduser()
        if not dataset.is_root(root):
            why = f"source in projects/{dataset.name}/params.yaml is {source!r}"
            raise DataNotFoundError(dataset.how_to_provide(root, why))
    # as the later stages reach it (from the repository root): relative stays relative
    shown = root if root.is_absolute() else Path(os.path.relpath(root))
    samples = dataset.training_samples(root, required=False)
    train = [s for s in samples if s[1] is not None]
    test = dataset.list_samples(root, "test")
    manifest = {
        "dataset": dataset.name,
        "source": source,
        "variant": variant if source in SOURCE_KEYWORDS else None,
        "root": shown.as_posix(),
        "train_images": len(train),
        "unlabeled_images": len(samples) - len(train),
        "test_images": len(test),
        "fingerprint": fingerprint([p for p, *_ in train]),
        "test_fingerprint": fingerprint([p for p, *_ in test]),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(args: list[str] | None = None) -> None:
    from ssl_core.project import project_source, resolve_project

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True)
    parser.add_argument("--source", required=True, help="'download' or a path to a copy")
    parser.add_argument("--variant", default=None, help="which archive (default: the first)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--mirror", help="URL folder serving the archive under its file name")
    ns = parser.parse_args(args)
    with exits_on_input_errors("ssl_core.acquire"):
        dataset = project_source(resolve_project(ns.project))
        manifest = acquire(dataset, ns.source, ns.out, ns.variant or None, ns.mirror)
    print(
        f"{dataset.name} at {manifest['root']}: {manifest['train_images']} train, "
        f"{manifest['test_images']} test samples (fingerprint {manifest['fingerprint'][:12]})"
    )


if __name__ == "__main__":
    main()
