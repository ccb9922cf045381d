"""Getting Imagenette from a mirror: a loopback HTTP server serving a tiny archive in
the official layout (never the internet)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import socket
import tarfile
import threading
from pathlib import Path

import pytest

from imagenette import download
from imagenette.datamodule import ImagenetteDataModule
from imagenette.download import DataNotFoundError, download_imagenette, ensure_imagenette
from imagenette.fake import make_fake_imagenette

ARCHIVE = "imagenette2-160.tgz"


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serves the folder it yields over http://127.0.0.1:<free port>/."""
    folder = tmp_path_factory.mktemp("mirror")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.func.log_message = lambda *args: None  # quiet
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def mirror(server, tmp_path, monkeypatch):
    """Write an archive in the official layout to the server; VARIANTS gets its md5."""
    folder, url = server

    def publish(extra_members: dict[str, bytes] | None = None) -> Path:
        source = make_fake_imagenette(tmp_path / "src" / "imagenette2-160", 1, 1, size=16)
        archive = folder / ARCHIVE
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(source, arcname="imagenette2-160")
            for name, data in (extra_members or {}).items():
                _add_bytes(tar, name, data)
        monkeypatch.setitem(download.VARIANTS, "160", (ARCHIVE, _md5(archive)))
        return archive

    return publish, url


def _assert_clear_message(err: DataNotFoundError, root: Path) -> None:
    text = str(err)
    assert str(root.resolve()) in text
    for hint in ("--data.root", "dvc pull", "--data.download"):
        assert hint in text


def test_download_success(mirror, tmp_path):
    publish, url = mirror
    publish()
    root = tmp_path / "data" / "imagenette2-160"
    assert download_imagenette(root, "160", base_url=url) == root
    assert sorted(p.name for p in (root / "train").iterdir())[0] == "n01440764"
    assert len(list((root / "val").rglob("*.JPEG"))) == 10
    assert not (tmp_path / "data" / ARCHIVE).exists()  # archive removed after extraction
    assert ensure_imagenette(root, download=False) == root


def test_datamodule_downloads_into_another_name(mirror, tmp_path):
    publish, url = mirror
    publish()
    root = tmp_path / "data" / "my-imagenette"
    dm = ImagenetteDataModule(root=str(root), download=True, base_url=url, num_workers=0)
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm.train_set) == 10 and len(dm.val_set) == 10
    assert (tmp_path / "data" / "imagenette2-160").is_dir()


def test_wrong_checksum(mirror, tmp_path, monkeypatch):
    publish, url = mirror
    publish()
    monkeypatch.setitem(download.VARIANTS, "160", (ARCHIVE, "0" * 32))
    root = tmp_path / "data" / "imagenette2-160"
    with pytest.raises(DataNotFoundError, match="md5") as err:
        ensure_imagenette(root, download=True, base_url=url)
    _assert_clear_message(err.value, root)
    assert list((tmp_path / "data").iterdir()) == []  # no corrupt archive, no data


@pytest.mark.parametrize("escape", ["dotdot", "absolute"])
def test_path_escape_is_refused(mirror, tmp_path, escape):
    publish, url = mirror
    outside = tmp_path / "evil.txt"
    name = "../evil.txt" if escape == "dotdot" else str(outside)
    publish({name: b"pwned"})
    root = tmp_path / "data" / "imagenette2-160"
    if escape == "dotdot":
        with pytest.raises(DataNotFoundError, match="unsafe or broken archive") as err:
            download_imagenette(root, "160", base_url=url)
        _assert_clear_message(err.value, root)
        # Nothing of an archive that was refused is kept, not even the members before it.
        assert list((tmp_path / "data").iterdir()) == []
        with pytest.raises(DataNotFoundError):
            ensure_imagenette(root, download=False)
    else:  # an absolute member name is either refused or kept inside the target
        try:
            download_imagenette(root, "160", base_url=url)
        except DataNotFoundError:
            pass
    assert not outside.exists()
    assert not (tmp_path.parent / "evil.txt").exists()


def test_server_unreachable(tmp_path, monkeypatch):
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = tmp_path / "data" / "imagenette2-160"
    with pytest.raises(DataNotFoundError, match="download from http://127.0.0.1") as err:
        ensure_imagenette(root, download=True, base_url=f"http://127.0.0.1:{port}/")
    _assert_clear_message(err.value, root)
    assert not root.exists()


def test_missing_data_without_download(tmp_path):
    with pytest.raises(DataNotFoundError) as err:
        ensure_imagenette(tmp_path / "nothing", download=False)
    _assert_clear_message(err.value, tmp_path / "nothing")
