"""user, group, umask, working_directory and the unix socket owner, through the real CLI.

Each test starts ``python -m bastion`` as root with the probe application (conftest's
APP_SOURCE), which reports the identity, groups, directory and umask it runs with.
"""

from __future__ import annotations

import ast
import http.client
import os
import socket
import stat
from typing import Any

from .conftest import Bastion, free_port, free_privileged_port, run_bastion

APP = "probe_app:app"


def probe(port: int) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 200, body
    return ast.literal_eval(body.decode())


def probe_unix(path: str) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(path)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        for _ in range(1000):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), data
    return ast.literal_eval(body.decode())


def test_binds_a_privileged_port_then_runs_the_app_as_the_user(accounts, app_dir):
    port = free_privileged_port()
    with Bastion("--user", accounts.user, "--listen", f"127.0.0.1:{port}", APP, cwd=app_dir) as b:
        b.wait_for("Serving on")
        state = probe(port)
    uid, gid = accounts.uid, accounts.gid
    assert state["ids"] == (uid, uid, gid, gid)
    # By name, the user keeps the groups the database gives it, and only those.
    assert state["groups"] == sorted({gid, accounts.group_gid})
    assert state["imported_as"] == uid, "the application is imported after the switch"
    assert state["env"] == {"HOME": accounts.home, "USER": accounts.user, "LOGNAME": accounts.user}
    assert f"Switched to user {accounts.user} ({uid}), group {accounts.user} ({gid})" in b.output


def test_numeric_user_and_group_get_no_supplementary_groups(accounts, app_dir):
    port = free_port()
    args = ["--user", str(accounts.uid), "--group", str(accounts.group_gid)]
    with Bastion(*args, "--listen", f"127.0.0.1:{port}", APP, cwd=app_dir) as b:
        b.wait_for("Serving on")
        state = probe(port)
    gid = accounts.group_gid
    assert state["ids"] == (accounts.uid, accounts.uid, gid, gid)
    assert state["groups"] == [gid]


def test_group_alone_switches_the_group_and_keeps_the_user(accounts, app_dir):
    port = free_port()
    args = ["--group", accounts.group, "--listen", f"127.0.0.1:{port}", APP]
    with Bastion(*args, cwd=app_dir) as b:
        b.wait_for("Serving on")
        state = probe(port)
    gid = accounts.group_gid
    assert state["ids"] == (0, 0, gid, gid)
    assert state["groups"] == [gid]


def test_umask_applies_to_files_the_app_creates(accounts, app_dir):
    port = free_port()
    args = ["--user", accounts.user, "--umask", "027", "--listen", f"127.0.0.1:{port}", APP]
    with Bastion(*args, cwd=app_dir) as b:
        b.wait_for("Serving on")
        state = probe(port)
    assert state["umask"] == 0o027
    assert state["file_mode"] == 0o640
    assert stat.S_IMODE(os.stat(app_dir / "made-by-app").st_mode) == 0o640


def test_working_directory_is_where_the_app_is_imported_from(accounts, app_dir, short_dir):
    port = free_port()
    args = ["--user", accounts.user, "--working-directory", str(app_dir)]
    # Started elsewhere: probe_app is importable only from the working directory.
    with Bastion(*args, "--listen", f"127.0.0.1:{port}", APP, cwd=short_dir) as b:
        b.wait_for("Serving on")
        state = probe(port)
    assert state["cwd"] == str(app_dir)
    assert state["module_dir"] == str(app_dir)
    assert state["ids"][0] == accounts.uid


def test_unix_socket_owner_and_perms(accounts, app_dir, short_dir):
    path = str(short_dir / "s.sock")
    args = [
        "--user", accounts.user,
        "--unix-socket", path,
        "--unix-socket-owner", f"{accounts.user}:{accounts.group}",
        "--unix-socket-perms", "660",
    ]  # fmt: skip
    with Bastion(*args, APP, cwd=app_dir) as b:
        b.wait_for("Serving on")
        info = os.stat(path)
        state = probe_unix(path)
    assert stat.S_ISSOCK(info.st_mode)
    assert (info.st_uid, info.st_gid) == (accounts.uid, accounts.group_gid)
    assert stat.S_IMODE(info.st_mode) == 0o660
    assert state["ids"][0] == accounts.uid


def test_unix_socket_group_only_keeps_the_owner(accounts, app_dir, short_dir):
    path = str(short_dir / "s.sock")
    args = ["--unix-socket", path, "--unix-socket-owner", f":{accounts.group}"]
    with Bastion(*args, APP, cwd=app_dir) as b:
        b.wait_for("Serving on")
        info = os.stat(path)
    assert (info.st_uid, info.st_gid) == (0, accounts.group_gid)
    assert stat.S_IMODE(info.st_mode) == 0o600


def test_unknown_user_exits_1_naming_the_option(app_dir):
    result = run_bastion(
        "--user", "bastion-no-such-user", "--listen", "127.0.0.1:0", APP, cwd=app_dir
    )
    assert result.returncode == 1
    assert "bastion: error: user: no such user 'bastion-no-such-user'" in result.stderr
    assert "Serving on" not in result.stderr


def test_unknown_group_exits_1_naming_the_option(app_dir):
    result = run_bastion(
        "--group", "bastion-no-such-grp", "--listen", "127.0.0.1:0", APP, cwd=app_dir
    )
    assert result.returncode == 1
    assert "bastion: error: group: no such group 'bastion-no-such-grp'" in result.stderr


def test_missing_working_directory_exits_1_naming_the_option(app_dir):
    missing = str(app_dir / "missing")
    args = ["--working-directory", missing, "--listen", "127.0.0.1:0", APP]
    result = run_bastion(*args, cwd=app_dir)
    assert result.returncode == 1
    assert f"bastion: error: working_directory: cannot change to {missing!r}" in result.stderr


def test_an_unprivileged_user_asking_for_root_gets_a_clear_error(accounts, app_dir):
    run_as = (accounts.uid, accounts.gid)
    result = run_bastion(
        "--user", "root", "--listen", "127.0.0.1:0", APP, cwd=app_dir, run_as=run_as
    )
    assert result.returncode == 1
    assert (
        "bastion: error: user: cannot switch to 'root': that needs root, "
        f"and bastion runs as uid {accounts.uid}"
    ) in result.stderr
    assert "Serving on" not in result.stderr


def test_an_unprivileged_user_asking_for_itself_is_served(accounts, app_dir):
    port = free_port()
    run_as = (accounts.uid, accounts.gid)
    args = ["--user", accounts.user, "--listen", f"127.0.0.1:{port}", APP]
    with Bastion(*args, cwd=app_dir, run_as=run_as) as b:
        b.wait_for("Serving on")
        state = probe(port)
    assert state["ids"] == (accounts.uid, accounts.uid, accounts.gid, accounts.gid)
    assert "Already running as user" in b.output


def test_no_process_options_leave_the_process_as_it_was(app_dir):
    port = free_port()
    with Bastion("--listen", f"127.0.0.1:{port}", APP, cwd=app_dir) as b:
        b.wait_for("Serving on")
        state = probe(port)
    assert state["ids"] == (0, 0, 0, 0)
    assert state["cwd"] == str(app_dir)
    assert "Switched to" not in b.output


def test_the_socket_file_is_removed_when_the_switch_fails(accounts, short_dir, app_dir):
    os.chown(short_dir, accounts.uid, accounts.gid)
    path = short_dir / "s.sock"
    # Bound by the unprivileged user, which then cannot become root.
    args = ["--user", "root", "--unix-socket", str(path), APP]
    with Bastion(*args, cwd=app_dir, run_as=(accounts.uid, accounts.gid)) as b:
        b.wait_for("bastion: error: user: cannot switch to 'root'")
        assert b.proc.wait(timeout=20) == 1
    assert not path.exists()


def test_a_working_directory_the_user_cannot_read_is_reported(accounts, app_dir, short_dir):
    # Started in a directory only root can read, without working_directory.
    args = ["--user", accounts.user, "--listen", "127.0.0.1:0", APP]
    result = run_bastion(*args, cwd=short_dir)
    assert result.returncode == 1
    assert f"The working directory {short_dir} is not readable by user {accounts.user}" in (
        result.stderr
    )
    assert "bastion: error: cannot import application 'probe_app:app'" in result.stderr
