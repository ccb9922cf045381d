"""Getting Imagenette: fast.ai's official archives, checksummed, extracted safely.

torchvision's ``download_url`` (progress bar, md5 check) and ``extract_archive`` (tar
``filter="data"``, PEP 706: members cannot escape the target directory) do the work;
this module adds the variants and one clear message when the data cannot be had.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import urllib.error
from pathlib import Path

from torchvision.datasets.utils import check_integrity, download_url, extract_archive

from ssl_core import data as ssl_data

BASE_URL = "https://s3.amazonaws.com/fast-ai-imageclas/"
VARIANTS = {  # variant -> (archive, md5)
    "160": ("imagenette2-160.tgz", "e793b78cc4c9e9a4ccc0c1155377a412"),
    "320": ("imagenette2-320.tgz", "3df6f0d01a2c9592104656642f5e78a3"),
    "full": ("imagenette2.tgz", "fe2fc210e6bb7c5664d602c3cd71e612"),
}


class DataNotFoundError(ssl_data.DataNotFoundError):
    """Imagenette is not where it is expected and could not be downloaded."""


def is_imagenette_root(root: Path) -> bool:
    """Whether ``root`` holds the standard layout (``train/<wnid>/``, ``val/<wnid>/``)."""
    return all(
        (root / split).is_dir() and any((root / split).iterdir()) for split in ("train", "val")
    )


def how_to_provide(root: Path, reason: str = "") -> str:
    return (
        f"Imagenette not found at {root.resolve()}{': ' + reason if reason else ''}.\n"
        "Provide it in one of these ways:\n"
        "  - point to an existing copy: --data.root PATH (a folder with train/<wnid>/*.JPEG, "
        "val/<wnid>/*.JPEG);\n"
        "  - get the team's copy: dvc pull (see README, 'Data and pipelines');\n"
        "  - download the official archive: --data.download true (needs internet; "
        "--data.variant 160|320|full)."
    )


def download_imagenette(
    root: Path, variant: str = "160", base_url: str = BASE_URL, keep_archive: bool = False
) -> Path:
    """Download and extract an official Imagenette archive so that ``root`` holds it.

    Args:
        root: Where the dataset should end up (``root/train``, ``root/val``). The archive's
            top folder (e.g. ``imagenette2-160``) is extracted into ``root.parent`` and
            must be named like ``root``, or ``root`` is created as a link to it.
        variant: ``160``, ``320`` or ``full``.
        base_url: Mirror to download from (tests use a loopback server).
        keep_archive: Keep the ``.tgz`` after extraction.

    Returns:
        ``root``.

    Raises:
        DataNotFoundError: offline, HTTP error, checksum mismatch or unsafe archive.
    """
    if variant not in VARIANTS:
        raise ValueError(f"Unknown Imagenette variant {variant!r}; choose from {sorted(VARIANTS)}")
    archive, md5 = VARIANTS[variant]
    root = Path(root)
    parent = root.parent
    parent.mkdir(parents=True, exist_ok=True)
    path = parent / archive
    try:
        download_url(base_url + archive, str(parent), archive, md5=md5)
    except (urllib.error.URLError, OSError, RuntimeError) as err:
        reason = str(err)
        if path.exists() and not check_integrity(str(path), md5):
            path.unlink()  # never leave a corrupted archive behind
            reason = f"md5 of {archive} does not match {md5} (corrupted download, file removed)"
        raise DataNotFoundError(
            how_to_provide(root, f"download from {base_url} failed ({reason})")
        ) from None
    # Extract into a scratch folder and move the result into place only when the whole
    # archive is in: a refused (unsafe) or interrupted extraction must not leave a
    # partial train/ and val/ that the next run would take for the dataset.
    extracted = parent / archive.removesuffix(".tgz")
    scratch = Path(tempfile.mkdtemp(prefix=".extract-", dir=parent))
    try:
        extract_archive(str(path), str(scratch))
        if extracted.exists():
            raise FileExistsError(f"{extracted} exists but is no complete Imagenette; remove it")
        (scratch / extracted.name).rename(extracted)
    except (tarfile.TarError, OSError) as err:
        path.unlink(missing_ok=True)
        raise DataNotFoundError(
            how_to_provide(root, f"unsafe or broken archive {archive}: {err}")
        ) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not keep_archive:
        path.unlink(missing_ok=True)
    if extracted != root and not root.exists():
        root.symlink_to(extracted.resolve(), target_is_directory=True)
    if not is_imagenette_root(root):
        raise DataNotFoundError(how_to_provide(root, f"{archive} did not contain train/ and val/"))
    return root


def ensure_imagenette(
    root: Path, download: bool = False, variant: str = "160", base_url: str = BASE_URL
) -> Path:
    """Return ``root`` if it holds Imagenette; download it first if allowed."""
    root = Path(root).expanduser()
    if is_imagenette_root(root):
        return root
    if not download:
        raise DataNotFoundError(how_to_provide(root))
    return download_imagenette(root, variant, base_url)
