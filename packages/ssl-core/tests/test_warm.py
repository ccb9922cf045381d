"""ssl_core.warm: a stage forked from a warm server behaves as ``python -m MODULE``.

The server here preloads a small standard-library module (``SSL_CORE_WARM_PRELOAD``), so
the test pays no torch import; the pipeline test (projects/imagenette/tests/test_dvc.py)
runs the real stages through it with the default list.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROBE = """\
import os, sys
print("argv", sys.argv[1:], "cwd", os.getcwd(), "x", os.environ.get("X"), flush=True)
print("warm" if "xml.dom.minidom" in sys.modules else "cold", flush=True)
print("to stderr", file=sys.stderr)
sys.exit(int(sys.argv[1]))
"""
FAILS = "def broken():\n    raise ValueError('the stage failed')\nbroken()\n"
SLEEPS = "import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(60)\n"
ENDS = """\
import atexit, sys, threading, time
from pathlib import Path
atexit.register(Path("atexit.txt").write_text, "ran")
def late():
    time.sleep(0.3)
    Path("thread.txt").write_text("done")
threading.Thread(target=late).start()
sys.stdout.write("buffered out")
sys.stderr.write("buffered err")
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A working folder with the probe modules, and a server of its own (socket there)."""
    for name, text in {"probe": PROBE, "fails": FAILS, "sleeps": SLEEPS, "ends": ENDS}.items():
        (tmp_path / f"{name}.py").write_text(text)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("SSL_CORE_WARM_PRELOAD", "xml.dom.minidom")
    monkeypatch.setenv("SSL_CORE_WARM_IDLE", "3")
    monkeypatch.delenv("SSL_CORE_WARM", raising=False)
    yield tmp_path
    _wait_for(lambda: not list(tmp_path.glob("ssl-core-warm-*[0-9a-f]")), 20)


def _warm(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ssl_core.warm", *args],
        cwd=folder,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _wait_for(condition, seconds: float) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


def _serving(folder: Path) -> bool:
    return bool(list(folder.glob("ssl-core-warm-*[0-9a-f]")))


def test_a_stage_runs_cold_first_then_warm_with_the_callers_folder_environment_and_status(folder):
    first = _warm(folder, "probe", "3", X="one")
    assert first.returncode == 3
    assert first.stdout.splitlines() == [f"argv ['3'] cwd {folder} x one", "cold"]
    assert first.stderr == "to stderr\n"
    _wait_for(lambda: _serving(folder), 30)  # the first call started a server

    second = _warm(folder, "probe", "0", X="two")
    assert second.returncode == 0
    assert second.stdout.splitlines() == [f"argv ['0'] cwd {folder} x two", "warm"]
    assert second.stderr == "to stderr\n"

    failed = _warm(folder, "fails")
    assert failed.returncode == 1
    assert "ValueError: the stage failed" in failed.stderr
    assert "ssl_core" not in failed.stderr  # the traceback python -m prints: the module's

    _wait_for(lambda: not _serving(folder), 20)  # idle 3 s: the server removed its socket
    assert _warm(folder, "probe", "0").stdout.splitlines()[1] == "cold"


@pytest.mark.parametrize("warm", ["1", "0"])
def test_a_stage_ends_without_teardown_yet_flushes_joins_and_runs_atexit(folder, warm):
    """Either way a stage ends with :func:`ssl_core.warm.finish` (no module teardown): a
    running non-daemon thread still finishes, buffered output still reaches the pipe,
    ``atexit`` handlers still run, and the status is 0."""
    if warm == "1":
        _warm(folder, "probe", "0")
        _wait_for(lambda: _serving(folder), 30)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a pipe buffers
    done = subprocess.run(
        [sys.executable, "-m", "ssl_core.warm", "ends"],
        cwd=folder,
        env={**env, "SSL_CORE_WARM": warm},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "buffered out", "buffered err")
    assert (folder / "atexit.txt").read_text() == "ran"
    assert (folder / "thread.txt").read_text() == "done"


def test_without_warm_nothing_is_started(folder):
    done = _warm(folder, "probe", "5", SSL_CORE_WARM="0")
    assert done.returncode == 5 and done.stdout.splitlines()[1] == "cold"
    time.sleep(1)
    assert not _serving(folder) and not list(folder.glob("*.log"))


@pytest.mark.parametrize("end", ["SIGTERM to the caller", "the caller killed"])
def test_a_signal_to_the_caller_reaches_the_stage_and_a_killed_caller_ends_it(folder, end):
    _warm(folder, "probe", "0")
    _wait_for(lambda: _serving(folder), 30)
    caller = subprocess.Popen(
        [sys.executable, "-m", "ssl_core.warm", "sleeps"],
        cwd=folder,
        stdout=subprocess.PIPE,
        text=True,
    )
    child = int(caller.stdout.readline())
    assert child != caller.pid  # forked by the server
    if end == "SIGTERM to the caller":
        caller.send_signal(signal.SIGTERM)  # forwarded to the child
        assert caller.wait(20) == 128 + signal.SIGTERM
    else:
        caller.kill()  # SIGKILL: nothing forwarded; the child sees its caller gone
        caller.wait(20)
    _wait_for(lambda: not _alive(child), 10)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie until the server reaps it: dead as far as the stage goes
    status = Path(f"/proc/{pid}/status")
    return status.is_file() and "zombie" not in status.read_text()
