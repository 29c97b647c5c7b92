"""Helpers shared by test files: bastion and the tools around it as subprocesses, waiting
(bounded) for a condition, the modules a source file imports, and reading a request body
to its digest.

Importable from any test file as ``bastion_testing`` (pyproject puts ``tests/support`` on
pytest's ``pythonpath``; ``--import-mode=importlib`` keeps conftest modules out of reach).
Every process started here is stopped by its PID, never by name.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 60.0
# The interpreter's arguments that run the CLI; tests may put a script of their own there.
CLI = ("-m", "bastion")
# Daemons such as nginx and haproxy live in sbin, which a non-root PATH may leave out.
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any BASTION_* variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
    env.update(extra)
    return env


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on at ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def find_tool(name: str) -> str:
    """The path of a system tool the test command installs; a clear failure if it is missing."""
    path = shutil.which(name, path=SBIN_PATH)
    if path is None:
        pytest.fail(f"{name} is not installed: scripts/test.sh installs it with apt-get")
    return path


def stop_process(proc: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM by PID, then SIGKILL if it lingers past ``timeout``; returns the exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    assert proc.returncode is not None
    return proc.returncode


def wait_until(condition: Callable[[], object], timeout: float, interval: float = 0.01) -> bool:
    """Call ``condition`` every ``interval`` seconds until it returns something true or
    ``timeout`` seconds have passed; whether it did.  It is called at least once, and once
    more after the last sleep, so a condition met just before the deadline counts."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


def wait_for_port(
    proc: subprocess.Popen,
    host: str,
    port: int,
    *,
    name: str,
    output: Callable[[], str],
    timeout: float = START_TIMEOUT,
) -> None:
    """Return once ``port`` accepts connections; fail, showing ``output()``, if ``proc`` exits."""

    def listening() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"{name} exited before listening on {port}: {output()}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            return False

    if not wait_until(listening, timeout, interval=0.05):
        pytest.fail(f"{name} did not listen on {port} within {timeout} s")


def run_cli(
    *args: str,
    cwd: Path,
    prefix: Sequence[str] = CLI,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python PREFIX ARGS`` to its end; ``env`` defaults to :func:`clean_env`."""
    return subprocess.run(
        [sys.executable, *prefix, *args],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        cwd=cwd,
        env=clean_env() if env is None else env,
    )


class Subprocess:
    """A running child whose stdout and stderr lines a thread gathers; stops by PID on exit."""

    def __init__(
        self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], name: str
    ) -> None:
        self.name = name
        self.lines: list[str] = []
        self._cursor = 0  # wait_for looks only at lines after the last one it matched
        self._ended = False
        self._changed = threading.Condition()
        self.proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        self._pump = threading.Thread(target=self._read, name=f"{name}-output", daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    @property
    def output(self) -> str:
        """Everything the process has written so far."""
        return "".join(self.lines)

    def describe(self) -> str:
        """Its exit status (None while running) and its last 200 lines, for failure messages."""
        return f"{self.name} (exit {self.proc.poll()}) said:\n" + "".join(self.lines[-200:])

    def _match(self, text: str) -> bool:
        for index in range(self._cursor, len(self.lines)):
            if text in self.lines[index]:
                self._cursor = index + 1
                return True
        self._cursor = len(self.lines)
        return False

    def wait_for(self, text: str, timeout: float = START_TIMEOUT) -> None:
        """Return once a new output line contains ``text``; fail at ``timeout`` or its EOF."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._match(text):
                remaining = deadline - time.monotonic()
                if self._ended or remaining <= 0:
                    raise AssertionError(f"{text!r} not seen within {timeout} s: {self.describe()}")
                self._changed.wait(remaining)

    def wait_for_port(self, host: str, port: int, timeout: float = START_TIMEOUT) -> None:
        """Return once ``host:port`` accepts connections; fail if the process exits first."""
        wait_for_port(self.proc, host, port, name=self.name, output=self.describe, timeout=timeout)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM by PID, SIGKILL after ``timeout``; returns the exit status. Idempotent."""
        status = stop_process(self.proc, timeout)
        self._pump.join(timeout=timeout)
        return status

    def __enter__(self) -> Subprocess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class CliProcess(Subprocess):
    """``python PREFIX ARGS`` (the bastion CLI by default), env defaulting to :func:`clean_env`."""

    def __init__(
        self,
        *args: str,
        cwd: Path,
        prefix: Sequence[str] = CLI,
        env: Mapping[str, str] | None = None,
    ) -> None:
        argv = [sys.executable, *prefix, *args]
        super().__init__(argv, cwd=cwd, env=clean_env() if env is None else env, name="bastion")


def read_digest(stream: Any, piece: int) -> tuple[str, int]:
    """Read ``stream`` to its end, ``piece`` bytes at a time: its sha256 (hex) and length."""
    digest = hashlib.sha256()
    total = 0
    for _ in range(10_000_000):  # bounded: every pass reads at least one byte
        data = stream.read(piece)
        if not data:
            break
        digest.update(data)
        total += len(data)
    return digest.hexdigest(), total


def imported_modules(
    path: str | os.PathLike[str], package: str | None = None, *, top_level: bool = False
) -> set[str]:
    """The modules the import statements of the Python source at ``path`` name, in full.

    ``import a.b`` and ``from a.b import c`` both give ``"a.b"`` (``c`` may be a module too:
    the source alone cannot tell).  A relative import is resolved against ``package``, the
    package the file belongs to: in package ``p.q``, ``from .x import y`` gives ``"p.q.x"``
    and ``from .. import y`` gives ``"p"``; without ``package`` a relative import is an
    error, so that none is overlooked.  Every statement counts, wherever it is (in a
    function, under ``if TYPE_CHECKING``).  ``top_level`` keeps only the first part of each
    name (``"a"`` for ``"a.b"``), for comparing with sets such as ``{"socket", "time"}``.
    """
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if not node.level:
                assert node.module is not None  # "from import x" does not parse
                names.add(node.module)
            elif package is None:
                raise ValueError(f"{path}:{node.lineno}: a relative import; pass its package")
            else:
                relative = "." * node.level + (node.module or "")
                names.add(importlib.util.resolve_name(relative, package))
    if top_level:
        return {name.partition(".")[0] for name in names}
    return names
