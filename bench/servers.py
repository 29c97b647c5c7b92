"""The servers under test: how each is launched, and a context manager that runs one.

Every server gets 4 worker threads where it has threads, listens on a free port of 127.0.0.1,
and is started with the CPU-pinning prefix. Limits that would refuse or close connections the
scenarios open are raised: waitress's (and bastion's) connection limit (waitress counts its own
listener and trigger in its default of 100, so 100 wrk connections would not all be served);
cheroot's keep-alive connection limit and backlog (in ``bench.run_cheroot``). ``idle_args`` are
used only in the idle scenario, for what only 2,000 idle connections need.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import procs
from bench.apps import HELLO

ROOT = Path(__file__).resolve().parent.parent
APP = "bench.apps:app"
HOST = "127.0.0.1"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class ServerSpec:
    """One server: its command for a port, extra idle-scenario arguments, and what it is."""

    name: str
    dist: str
    module: str
    command: Callable[[str], list[str]]
    idle_args: tuple[str, ...]
    threads: str
    pure_python: bool

    def installed(self) -> bool:
        """Tell whether the server's module can be imported by this interpreter."""
        try:
            return importlib.util.find_spec(self.module) is not None
        except ImportError:
            return False

    def argv(self, port: int | str, idle: bool) -> list[str]:
        """The full command line (without pinning) for ``port``."""
        argv = self.command(str(port))
        if not idle or not self.idle_args:
            return argv
        if argv[-1] == APP:
            return [*argv[:-1], *self.idle_args, APP]
        return [*argv, *self.idle_args]


GUNICORN_GTHREAD = ("-m", "gunicorn", "-k", "gthread", "--threads", "4", "-w", "1")
GUNICORN_GTHREAD += ("--log-level", "warning")


def _py(*args: str) -> list[str]:
    return [sys.executable, *args]


SERVERS: dict[str, ServerSpec] = {
    spec.name: spec
    for spec in (
        ServerSpec(
            "bastion",
            "bastion",
            "bastion",
            lambda p: _py(
                *("-m", "bastion", "--listen", f"{HOST}:{p}", "--threads", "4"),
                *("--connection-limit", "4096", APP),
            ),
            (),
            "4 threads",
            True,
        ),
        ServerSpec(
            "waitress",
            "waitress",
            "waitress",
            lambda p: _py(
                *("-m", "waitress", f"--listen={HOST}:{p}", "--threads=4"),
                *("--connection-limit=4096", APP),
            ),
            ("--asyncore-use-poll",),
            "4 threads",
            True,
        ),
        ServerSpec(
            "cheroot",
            "cheroot",
            "cheroot",
            lambda p: _py("-m", "bench.run_cheroot", p),
            ("--timeout", "60"),
            "4 threads",
            True,
        ),
        ServerSpec(
            "gunicorn",
            "gunicorn",
            "gunicorn",
            lambda p: _py(*GUNICORN_GTHREAD, "-b", f"{HOST}:{p}", APP),
            ("--worker-connections", "4096", "--keep-alive", "60"),
            "1 worker, 4 threads (gthread)",
            True,
        ),
        ServerSpec(
            "bjoern",
            "bjoern",
            "bjoern",
            lambda p: _py("-m", "bench.run_bjoern", p),
            (),
            "1 thread (C, libev)",
            False,
        ),
    )
}


class StartError(Exception):
    """The server did not start or did not answer ``GET /hello`` with 200."""


class PortAllocator:
    """Hand out distinct free TCP ports of 127.0.0.1 (free when asked; never the same twice)."""

    def __init__(self) -> None:
        self._used: set[int] = set()

    def next(self) -> int:
        """Return a port that the kernel just reported free and that was not handed out before."""
        for _ in range(100):
            with socket.socket() as s:
                s.bind((HOST, 0))
                port = s.getsockname()[1]
            if port not in self._used:
                self._used.add(port)
                return port
        raise RuntimeError("no free port found in 100 tries")


@dataclass
class Running:
    """A started server: its process, port, and the peak-RSS sampler watching it."""

    spec: ServerSpec
    proc: subprocess.Popen[bytes]
    port: int
    rss: procs.PeakRss

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://{HOST}:{self.port}"


def _hello_ok(port: int) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", "/hello")
        resp = conn.getresponse()
        return resp.status == 200 and resp.read() == HELLO
    except OSError:
        return False
    finally:
        conn.close()


def _tail(path: str, limit: int = 400) -> str:
    text = Path(path).read_text(errors="replace").strip()
    return " | ".join(text[-limit:].splitlines()[-4:]) or "(no output)"


def _wait_ready(proc: subprocess.Popen[bytes], port: int, log: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            raise StartError(f"exited with code {code}: {_tail(log)}")
        if _hello_ok(port):
            return
        time.sleep(0.05)
    raise StartError(f"no 200 on GET /hello within {START_TIMEOUT:.0f} s: {_tail(log)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    tree = procs.descendants(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(procs.alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in tree:
        if procs.alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def running(
    spec: ServerSpec, port: int, prefix: tuple[str, ...], idle: bool = False
) -> Iterator[Running]:
    """Start ``spec`` on ``port``, wait until it serves ``/hello``, yield it, then stop it.

    Stopping is SIGTERM, then SIGKILL after 5 s, for the server and any process it spawned.
    Raises StartError (after cleaning up) if it does not come up within 20 s.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    fd, log = tempfile.mkstemp(prefix=f"bench-{spec.name}-", suffix=".log")
    try:
        with os.fdopen(fd, "wb") as out:
            proc = subprocess.Popen(
                [*prefix, *spec.argv(port, idle)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        rss = procs.PeakRss(proc.pid).start()
        try:
            _wait_ready(proc, port, log)
            yield Running(spec, proc, port, rss)
        finally:
            rss.stop()
            _stop(proc)
    finally:
        os.unlink(log)
