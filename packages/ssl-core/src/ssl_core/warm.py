"""Start pipeline stages warm: fork each from a process that has already imported torch,
Lightning and the other heavy libraries (``docs/pipelines.md``, "Stages start warm")."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import gc
import hashlib
import os
import runpy
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Client, Connection
from multiprocessing.reduction import recv_handle, send_handle
from typing import NoReturn

#: The installed libraries a server imports before it serves: the import chain of a stage
#: (``python -X importtime -m ssl_core.pipeline``) without the workspace's own packages.
PRELOAD = tuple(
    "numpy scipy.signal torch torchvision torchmetrics lightning.pytorch jsonargparse lightly.loss "
    "lightly.models.modules albumentations segmentation_models_pytorch sklearn.linear_model "
    "sklearn.neighbors sklearn.metrics matplotlib umap PIL.Image yaml".split()
)
#: Environment variables that libraries read when they are imported: a server serves only
#: callers whose values of these equal its own.
IMPORT_ENVIRONMENT = tuple(
    "OMP_ MKL_ OPENBLAS_ KMP_ CUDA_ NVIDIA_ TORCH PYTORCH_ PYTHON LD_ NUMBA_ MPL SSL_CORE_WARM".split()
)
IDLE_SECONDS = 300.0


def address() -> str:
    """The socket path of the server that may serve this process."""
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith(IMPORT_ENVIRONMENT))
    site = sysconfig.get_paths()["purelib"]
    installed = os.stat(site).st_mtime_ns, os.stat(__file__).st_mtime_ns  # and this launcher
    key = repr((sys.executable, installed, env, _preload()))
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    folder = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return os.path.join(folder, f"ssl-core-warm-{os.getuid()}-{digest}")


def _preload() -> tuple[str, ...]:
    names = os.environ.get("SSL_CORE_WARM_PRELOAD")
    return PRELOAD if names is None else tuple(n for n in names.split(",") if n)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m ssl_core.warm MODULE [ARG ...]`` (or ``--serve ADDRESS``, the server)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--serve"] and len(argv) == 2:
        serve(argv[1])
        return
    if not argv or argv[0].startswith("-"):
        print("usage: python -m ssl_core.warm MODULE [ARG ...]", file=sys.stderr)
        raise SystemExit(2)
    if os.environ.get("SSL_CORE_WARM", "1") != "0":
        here = address()
        if (code := run_warm(here, argv)) is not None:
            raise SystemExit(code)
        start_server(here)
    finish(as_main(argv))


def run_warm(where: str, argv: Sequence[str]) -> int | None:
    """Run the module in a child of the server at ``where``: its exit status (None: no server)."""
    try:
        client = Client(where, "AF_UNIX")
    except OSError:
        return None
    for fd in (0, 1, 2):  # the standard streams (a closed one: the null device)
        try:
            os.fstat(fd)
        except OSError:
            fd = os.open(os.devnull, os.O_RDWR)
        send_handle(client, fd, 0)
    client.send({"argv": list(argv), "cwd": os.getcwd(), "env": dict(os.environ)})

    forwarded: list[int] = []

    def forward(signum: int, frame: object) -> None:
        forwarded.append(signum)
        with contextlib.suppress(OSError):
            client.send(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1):
        signal.signal(signum, forward)
    try:  # recv is retried after a forwarded signal (PEP 475)
        return client.recv()
    except (EOFError, ConnectionError):  # the child died of a signal
        if forwarded:
            return 128 + forwarded[-1]  # as a shell reports a process it killed
        print("ssl_core.warm: the stage process was killed", file=sys.stderr)
        return 1


def start_server(where: str) -> None:
    """Start a server for ``where`` in the background, unless one is starting already."""
    with open(where + ".lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # a server holds it: it is importing and will answer soon
    with open(where + ".log", "w") as log:
        subprocess.Popen(
            [sys.executable, "-m", "ssl_core.warm", "--serve", where],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=tempfile.gettempdir(),
            start_new_session=True,  # outlives the caller; the caller's Ctrl-C is not its
        )


def serve(where: str) -> None:
    """Import :data:`PRELOAD`, then fork a child per call until idle."""
    lock = open(where + ".lock", "a")  # held for the server's life: one server per address
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return
    started = time.monotonic()
    for name in _preload():
        try:
            __import__(name)
        except Exception as error:  # an optional library missing: the stage imports its own
            print(f"not preloaded: {name} ({type(error).__name__}: {error})", flush=True)
    if threading.active_count() != 1:  # a fork would copy a half-held lock
        print(f"not serving: {threading.active_count()} threads after imports", flush=True)
        return
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():  # a forked child could not use it
        print("not serving: an import initialized CUDA", flush=True)
        return
    print(f"preloaded in {time.monotonic() - started:.1f} s; serving {where}", flush=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(where)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mask = os.umask(0o177)  # the socket is this user's only
    try:
        server.bind(where)
    finally:
        os.umask(mask)
    server.listen(16)
    server.settimeout(1.0)
    idle = float(os.environ.get("SSL_CORE_WARM_IDLE", IDLE_SECONDS))
    children: set[int] = set()
    last = time.monotonic()
    try:
        while children or time.monotonic() - last < idle:
            for pid in list(children):
                with contextlib.suppress(ChildProcessError):
                    if os.waitpid(pid, os.WNOHANG)[0] == 0:
                        continue
                children.discard(pid)
                last = time.monotonic()
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            pid = os.fork()
            if pid == 0:
                server.close()
                lock.close()
                connection.settimeout(None)
                _child(Connection(connection.detach()))  # never returns
            connection.close()
            children.add(pid)
            last = time.monotonic()
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(where)
        server.close()
        lock.close()


def _child(connection: Connection) -> None:
    """Become the caller's ``python -m MODULE``; report its exit status; exit."""
    code = 1
    try:
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        fds = [recv_handle(connection) for _ in range(3)]
        request = connection.recv()
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        _reopen_streams()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.path[0] = request["cwd"]  # as `python -m` run there would have it
        for name in [m for m in sys.modules if m == "ssl_core" or m.startswith("ssl_core.")]:
            del sys.modules[name]  # this server's copy of the launcher: the stage imports its own
        threading.Thread(target=_watch, args=(connection,), daemon=True).start()
        code = as_main(request["argv"])
    finally:  # also when the request could not be read (status 1)
        finish(code, report=connection.send)


def _reopen_streams() -> None:
    """``sys.stdin/stdout/stderr`` on the new descriptors, buffered as a fresh process's."""
    old = sys.stdout
    common = {"encoding": old.encoding, "closefd": False}
    line = 1 if os.isatty(1) else -1  # a terminal's stdout is line-buffered
    sys.stdin = sys.__stdin__ = open(0, **common)  # noqa: SIM115
    sys.stdout = sys.__stdout__ = open(1, "w", errors=old.errors, buffering=line, **common)  # noqa: SIM115
    sys.stderr = sys.__stderr__ = open(2, "w", errors="backslashreplace", buffering=1, **common)  # noqa: SIM115


def _watch(connection: Connection) -> None:
    """Deliver the caller's forwarded signals; end the child if the caller is gone."""
    with contextlib.suppress(OSError, EOFError):
        while True:
            os.kill(os.getpid(), connection.recv())
    os.kill(os.getpid(), signal.SIGTERM)


def as_main(argv: Sequence[str]) -> int:
    """Run the module as ``python -m`` would; its exit status."""
    try:
        sys.argv = list(argv)
        runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
        return 0
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0
        print(stop.code, file=sys.stderr)
        return 1
    except BaseException as error:
        # The traceback `python -m` prints: from the module's frame on, not this launcher's.
        tb = error.__traceback__
        launcher = (__file__, runpy.__file__, "<frozen runpy>")
        while tb is not None and tb.tb_frame.f_code.co_filename in launcher:
            tb = tb.tb_next
        traceback.print_exception(type(error), error, tb)
        return 128 + signal.SIGINT if isinstance(error, KeyboardInterrupt) else 1


def finish(code: int, report: Callable[[int], object] | None = None) -> NoReturn:
    """End a finished stage's process without Python's module teardown (1.3-1.8 s after
    importing torch and Lightning; docs/history.md), the rest of a normal exit in its order
    (the collection stops a DataLoader's workers); then ``report``, then ``os._exit``."""
    try:
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and not thread.daemon:
                thread.join()
        gc.collect()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        if report is not None:
            report(code)
    finally:
        os._exit(code)


if __name__ == "__main__":
    main()
