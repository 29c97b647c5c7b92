"""Fixtures for the least-privilege tests: throwaway accounts and a ``bastion`` subprocess.

These tests run as root (CI does): ``accounts`` creates a system user, whose own group is
its primary group, and a second group the user is a member of; both are removed at the
end of the session.  ``Bastion`` runs ``python -m bastion`` and gathers its output.

Only those subprocesses ever switch user.  In pytest's own process every os call that
changes ids is replaced by a recorder (``id_calls``, for every test here), so a test of
``drop_privileges`` asserts exactly which calls it made, and a regression cannot turn
the test run itself into another user.
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import bastion_testing
import pytest
from bastion_testing import CLI, CliProcess, free_port

__all__ = ["Bastion", "IdCalls", "free_port", "free_privileged_port", "run_bastion"]

# The application the server loads after dropping privileges.  It imports nothing but
# ``os``: after the drop, the interpreter's own files may not be readable by the user.
APP_SOURCE = """\
import os

IMPORTED_AS = os.getuid()
HERE = os.path.dirname(os.path.abspath(__file__))


def app(environ, start_response):
    mask = os.umask(0)
    os.umask(mask)
    made = os.path.join(HERE, "made-by-app")
    if os.path.exists(made):
        os.unlink(made)
    with open(made, "w") as handle:
        handle.write("x")
    state = {
        "imported_as": IMPORTED_AS,
        "module_dir": HERE,
        "ids": (os.getuid(), os.geteuid(), os.getgid(), os.getegid()),
        "groups": sorted(os.getgroups()),
        "cwd": os.getcwd(),
        "umask": mask,
        "file_mode": os.stat(made).st_mode & 0o777,
        "env": {key: os.environ.get(key) for key in ("HOME", "USER", "LOGNAME")},
    }
    body = repr(state).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""


# Every os call that changes the process's user or group ids.
ID_CHANGING_CALLS = (
    "initgroups", "setgroups", "setgid", "setuid", "setegid", "seteuid",
    "setregid", "setreuid", "setresgid", "setresuid",
)  # fmt: skip


class IdCalls(list):
    """The id-changing calls a test made, in order, as ``(name, *args)``; none really made.

    A recorded call returns as if it succeeded, unless :meth:`refuse` named it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.refusals: dict[str, OSError] = {}

    def refuse(self, name: str, error: OSError) -> None:
        """Make the recorded call ``name`` raise ``error``, as the kernel would refuse it."""
        self.refusals[name] = error

    def recorder(self, name: str) -> Callable[..., None]:
        def call(*args: object) -> None:
            self.append((name, *args))
            if name in self.refusals:
                raise self.refusals[name]

        return call


# Bound now, before any test patches them, for id_calls' check of the real ids.
_getresuid, _getresgid, _getgroups = os.getresuid, os.getresgid, os.getgroups


def _real_ids() -> tuple[object, ...]:
    return (_getresuid(), _getresgid(), sorted(_getgroups()))


@pytest.fixture(autouse=True)
def id_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[IdCalls]:
    """Replace every id-changing os call with a recorder; check the real ids did not move."""
    calls = IdCalls()
    for name in ID_CHANGING_CALLS:
        if hasattr(os, name):
            monkeypatch.setattr(os, name, calls.recorder(name))
    before = _real_ids()
    yield calls
    assert _real_ids() == before, "pytest's own process changed its user or groups"


@dataclass(frozen=True)
class Accounts:
    user: str
    uid: int
    gid: int  # the user's primary group
    group: str  # a second group; the user is a member of it
    group_gid: int
    home: str


@pytest.fixture(scope="session")
def accounts() -> Iterator[Accounts]:
    assert os.geteuid() == 0, "tests/process create accounts and switch users: run as root"
    suffix = secrets.token_hex(4)
    user, group = f"bastion-test-{suffix}", f"bastion-tg-{suffix}"
    _run("groupadd", "--system", group)
    try:
        _run(
            "useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
            "--groups", group, user,
        )  # fmt: skip
        try:
            entry = pwd.getpwnam(user)
            yield Accounts(
                user,
                entry.pw_uid,
                entry.pw_gid,
                group,
                grp.getgrnam(group).gr_gid,
                entry.pw_dir,
            )
        finally:
            _run("userdel", user)
    finally:
        _run("groupdel", group)


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=30)


@pytest.fixture
def app_dir(accounts: Accounts) -> Iterator[Path]:
    """A directory owned by the test user, holding ``probe_app.py``."""
    # /tmp rather than tmp_path: pytest's base directory is readable by root only.
    directory = Path(tempfile.mkdtemp(prefix="bst-app-", dir="/tmp"))
    try:
        (directory / "probe_app.py").write_text(APP_SOURCE)
        os.chmod(directory, 0o755)
        os.chown(directory, accounts.uid, accounts.gid)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # AF_UNIX paths are limited to ~108 bytes: keep the directory short.
    directory = Path(tempfile.mkdtemp(prefix="bst", dir="/tmp"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def free_privileged_port() -> int:
    for port in range(81, 1024):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port below 1024 on 127.0.0.1")


# Runs the CLI as an unprivileged account.  The interpreter may live where that account
# cannot read (here: under /root), so it starts as root, imports bastion, then switches.
AS_USER = """\
import encodings.idna, grp, locale, os, pwd, sys  # imported late by socket, argparse, bastion
import bastion.check, bastion.cli, bastion.process.privileges, bastion.server
uid, gid = int(sys.argv[1]), int(sys.argv[2])
os.setgroups([gid])
os.setgid(gid)
os.setuid(uid)
sys.exit(bastion.cli.main(sys.argv[3:]))
"""


def cli_prefix(run_as: tuple[int, int] | None) -> list[str]:
    """The interpreter's arguments: the CLI, or AS_USER switching to ``run_as=(uid, gid)``."""
    return [*CLI] if run_as is None else ["-c", AS_USER, *map(str, run_as)]


def run_bastion(
    *args: str, cwd: Path, run_as: tuple[int, int] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI (as ``run_as``, see AS_USER) expecting it to exit by itself."""
    return bastion_testing.run_cli(*args, cwd=cwd, prefix=cli_prefix(run_as))


class Bastion(CliProcess):
    """A running ``python -m bastion``; use as a context manager, which stops it by PID."""

    def __init__(self, *args: str, cwd: Path, run_as: tuple[int, int] | None = None) -> None:
        # run_as=(uid, gid): the CLI is started as root and switches to that account
        # itself before its main() runs (see AS_USER), as if the user had started it.
        super().__init__(*args, cwd=cwd, prefix=cli_prefix(run_as))
