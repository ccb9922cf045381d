"""Fixtures every project's tests need, written once (a project's ``conftest.py``
imports them by name: ``from ssl_core.testing import isolated_split_cache, ...``).

- ``isolated_split_cache`` (session, autouse once imported): label splits made on first
  use go to a temporary cache, never the user's ``~/.cache/ssl-core``.
- ``http_mirror`` (module): a loopback HTTP server (``127.0.0.1``, a free port) that
  serves a temporary folder; yields ``(folder, base_url)``. Tests never download from
  the internet: they publish a fake archive there and point the code at it.
- ``one_torch_thread`` (module; ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``):
  one intra-op torch thread while the module's tests run. Tiny training steps gain
  nothing from two, and on a few shared cores OpenMP's spinning threads made them
  several times slower.
"""

from __future__ import annotations

import functools
import http.server
import threading

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def isolated_split_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("SSL_CORE_CACHE", str(tmp_path_factory.mktemp("ssl-core-cache")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def http_mirror(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mirror")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.func.log_message = lambda *args: None  # quiet
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
