"""Getting Imagenette from a mirror: a loopback HTTP server serving a tiny archive in the
official layout (never the internet). The generic download, checksum and safe-extraction
checks are ssl-core's (packages/ssl-core/tests/test_download.py); here only what is
Imagenette's: its variants, its ``base_url`` and its message."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

import pytest

from imagenette import dataset
from imagenette.datamodule import ImagenetteDataModule
from imagenette.fake import make_fake_imagenette
from ssl_core.data import DataNotFoundError

ARCHIVE = "imagenette2-160.tgz"


@pytest.fixture
def mirror(http_mirror, tmp_path, monkeypatch) -> str:
    """A fake ``imagenette2-160.tgz`` (2 train / 1 val image per class) on the server;
    VARIANTS gets its md5. Returns the mirror's base URL."""
    folder, url = http_mirror
    source = make_fake_imagenette(tmp_path / "src" / "imagenette2-160", 2, 1, size=16)
    archive = folder / ARCHIVE
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname="imagenette2-160")
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(dataset.VARIANTS, "160", (ARCHIVE, md5))
    return url


def test_datamodule_downloads_the_160_variant_into_another_name(mirror, http_mirror, tmp_path):
    root = tmp_path / "data" / "my-imagenette"
    dm = ImagenetteDataModule(root=str(root), download=True, base_url=mirror, num_workers=0)
    assert dm.archive.url == mirror + ARCHIVE and dm.archive.folder == "imagenette2-160"
    dm.prepare_data()
    dm.setup("fit")
    assert (tmp_path / "data" / "imagenette2-160" / "train").is_dir()
    assert root.resolve() == (tmp_path / "data" / "imagenette2-160").resolve()
    assert not (tmp_path / "data" / ARCHIVE).exists()
    # 20 training images: 10 (one per class) in the validation split, 10 to train on.
    assert len(dm.train_set) + len(dm.val_samples) == 20 and len(dm.val_samples) == 10
    assert len(dm.test_samples) == 10 and all(p.startswith("val/") for p, _ in dm.test_samples)
    assert (tmp_path / "data" / "imagenette2-160" / "noisy_imagenette.csv").is_file()
    (http_mirror[0] / ARCHIVE).unlink()  # the data is there now: nothing is downloaded again
    dm.prepare_data()


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="Unknown variant '640'"):
        ImagenetteDataModule(root="/nowhere", variant="640")


def test_missing_data_says_how_to_provide_it(tmp_path):
    root = tmp_path / "nothing"
    dm = ImagenetteDataModule(root=str(root), download=False, num_workers=0)
    with pytest.raises(DataNotFoundError) as err:
        dm.prepare_data()
    text = str(err.value)
    assert text.startswith(f"imagenette not found at {root.resolve()}")
    for hint in ("--data.root", "dvc pull", "--data.download", "--data.variant 160|320|full"):
        assert hint in text
    assert not root.exists()


def test_default_root_is_the_variants_folder_in_the_project():
    dm = ImagenetteDataModule(variant="320", download=False)
    assert dm.root == Path(dataset.PROJECT_DIR) / "data" / "imagenette2-320"
    assert dm.archive.url == dataset.BASE_URL + "imagenette2-320.tgz"
