"""Getting a dataset's archive: torchvision's ``download_url`` (md5 check) and
``extract_archive`` (tar ``filter="data"``, PEP 706), extracted all or nothing, with one
clear message when the data cannot be had.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import urllib.error
from pathlib import Path
from urllib.parse import urlsplit

from torchvision.datasets.utils import check_integrity, download_url, extract_archive

from ssl_core.data.sources import Archive, DataNotFoundError, ImageFolder


def download_archive(
    source: ImageFolder, archive: Archive, root: Path, keep_archive: bool = False
) -> Path:
    """Download ``archive`` and extract its ``folder`` into ``root.parent`` (``root``
    links to it when named otherwise); offline, on an HTTP error, a checksum mismatch or
    an unsafe archive: :class:`DataNotFoundError`."""
    root = Path(root)
    parent = root.parent
    parent.mkdir(parents=True, exist_ok=True)
    filename = Path(urlsplit(archive.url).path).name
    path = parent / filename
    base_url = archive.url[: -len(filename)]
    try:
        download_url(archive.url, str(parent), filename, md5=archive.md5)
    except (urllib.error.URLError, OSError, RuntimeError) as err:
        reason = str(err)
        if path.exists() and not check_integrity(str(path), archive.md5):
            path.unlink()  # never leave a corrupted archive behind
            reason = (
                f"md5 of {filename} does not match {archive.md5} (corrupted download, file removed)"
            )
        raise DataNotFoundError(
            source.how_to_provide(root, f"download from {base_url} failed ({reason})")
        ) from None
    # all or nothing: a partial dataset would be taken for the real one by the next run
    extracted = parent / archive.folder
    scratch = Path(tempfile.mkdtemp(prefix=".extract-", dir=parent))
    try:
        extract_archive(str(path), str(scratch))
        if extracted.exists():
            raise FileExistsError(f"{extracted} exists but is no complete {source.name}; remove it")
        (scratch / archive.folder).rename(extracted)
    except (tarfile.TarError, OSError) as err:
        path.unlink(missing_ok=True)
        raise DataNotFoundError(
            source.how_to_provide(root, f"unsafe or broken archive {filename}: {err}")
        ) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not keep_archive:
        path.unlink(missing_ok=True)
    if extracted != root and not root.exists():
        root.symlink_to(extracted.resolve(), target_is_directory=True)
    if not source.is_root(root):
        raise DataNotFoundError(
            source.how_to_provide(root, f"{filename} did not hold the expected layout")
        )
    return root


def ensure_data(
    source: ImageFolder, root: Path, download: bool = False, archive: Archive | None = None
) -> Path:
    """``root`` if it holds the dataset, once ``archive`` is downloaded where allowed; else
    :class:`DataNotFoundError` (the data is not there and may not or cannot be downloaded)."""
    root = Path(root).expanduser()
    if source.is_root(root):
        return root
    if not download or archive is None:
        reason = "no archive to download is known" if download else ""
        raise DataNotFoundError(source.how_to_provide(root, reason))
    return download_archive(source, archive, root)
