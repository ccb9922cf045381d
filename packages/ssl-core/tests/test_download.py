"""Getting a dataset's archive: downloaded from a loopback HTTP server (never the
internet), checksummed, extracted safely, and one clear message when it cannot be had."""

from __future__ import annotations

import hashlib
import io
import socket
import tarfile
from pathlib import Path

import pytest

from ssl_core.data import Archive, DataNotFoundError, ImageFolder
from ssl_core.data.download import download_archive, ensure_data
from ssl_core.data.fake import make_fake_image_folder

CLASSES = ("ant", "bee", "cat")
FOLDER = "folders-v1"  # the archive's top folder
ARCHIVE = f"{FOLDER}.tgz"


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _source(archive: Archive | None = None) -> ImageFolder:
    source = ImageFolder()
    if archive is not None:
        source.archives = {"v1": archive}
    return source


@pytest.fixture
def mirror(http_mirror, tmp_path):
    """``publish(extra_members)`` writes a class-folder archive to the server and returns
    its :class:`Archive` (URL, md5, folder)."""
    folder, url = http_mirror

    def publish(extra_members: dict[str, bytes] | None = None) -> Archive:
        data = make_fake_image_folder(
            tmp_path / "src" / FOLDER, CLASSES, {"train": 2, "test": 1}, size=16
        )
        archive = folder / ARCHIVE
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(data, arcname=FOLDER)
            for name, content in (extra_members or {}).items():
                _add_bytes(tar, name, content)
        return Archive(url + ARCHIVE, _md5(archive), FOLDER)

    return publish


def _assert_clear_message(err: DataNotFoundError, root: Path) -> None:
    text = str(err)
    assert str(root.resolve()) in text
    for hint in ("--data.root", "dvc pull", "--data.download"):
        assert hint in text


def test_download_success(mirror, tmp_path):
    archive = mirror()
    source = _source(archive)
    root = tmp_path / "data" / FOLDER
    assert download_archive(source, archive, root) == root
    assert sorted(p.name for p in (root / "train").iterdir()) == list(CLASSES)
    assert len(list((root / "test").rglob("*.png"))) == 3
    assert len(source.list_samples(root, "train")) == 6
    assert not (tmp_path / "data" / ARCHIVE).exists()  # archive removed after extraction
    assert [p.name for p in (tmp_path / "data").iterdir()] == [FOLDER]  # no scratch left
    assert ensure_data(source, root, download=False) == root


def test_download_into_another_name_and_keep_the_archive(mirror, tmp_path):
    archive = mirror()
    source = _source(archive)
    root = tmp_path / "data" / "my-copy"
    assert ensure_data(source, root, download=True, archive=archive) == root
    assert root.is_symlink() and root.resolve() == (tmp_path / "data" / FOLDER).resolve()
    assert len(source.list_samples(root, "train")) == 6
    kept = tmp_path / "kept" / FOLDER
    download_archive(source, archive, kept, keep_archive=True)
    assert _md5(tmp_path / "kept" / ARCHIVE) == archive.md5


def test_wrong_checksum(mirror, tmp_path):
    archive = mirror()
    wrong = Archive(archive.url, "0" * 32, archive.folder)
    root = tmp_path / "data" / FOLDER
    with pytest.raises(DataNotFoundError, match="md5") as err:
        ensure_data(_source(wrong), root, download=True, archive=wrong)
    _assert_clear_message(err.value, root)
    assert list((tmp_path / "data").iterdir()) == []  # no corrupt archive, no data


@pytest.mark.parametrize("escape", ["dotdot", "absolute"])
def test_path_escape_is_refused(mirror, tmp_path, escape):
    outside = tmp_path / "evil.txt"
    name = "../evil.txt" if escape == "dotdot" else str(outside)
    archive = mirror({name: b"pwned"})
    source = _source(archive)
    root = tmp_path / "data" / FOLDER
    if escape == "dotdot":
        with pytest.raises(DataNotFoundError, match="unsafe or broken archive") as err:
            download_archive(source, archive, root)
        _assert_clear_message(err.value, root)
        # Nothing of an archive that was refused is kept, not even the members before it.
        assert list((tmp_path / "data").iterdir()) == []
        with pytest.raises(DataNotFoundError):
            ensure_data(source, root, download=False)
    else:  # an absolute member name is either refused or kept inside the target
        try:
            download_archive(source, archive, root)
        except DataNotFoundError:
            pass
    assert not outside.exists()
    assert not (tmp_path.parent / "evil.txt").exists()


def test_server_unreachable(tmp_path):
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    archive = Archive(f"http://127.0.0.1:{port}/{ARCHIVE}", "0" * 32, FOLDER)
    root = tmp_path / "data" / FOLDER
    with pytest.raises(DataNotFoundError, match="download from http://127.0.0.1") as err:
        ensure_data(_source(archive), root, download=True, archive=archive)
    _assert_clear_message(err.value, root)
    assert not root.exists()


def test_missing_data_without_download(tmp_path):
    archive = Archive("http://127.0.0.1:9/x.tgz", "0" * 32, "x")
    root = tmp_path / "nothing"
    with pytest.raises(DataNotFoundError) as err:
        ensure_data(_source(archive), root, download=False, archive=archive)
    _assert_clear_message(err.value, root)
    # Without an archive to download, the message says so and offers no download.
    with pytest.raises(DataNotFoundError, match="no archive to download is known") as err:
        ensure_data(_source(), root, download=True)
    assert "--data.root" in str(err.value) and "--data.download" not in str(err.value)
