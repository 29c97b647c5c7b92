"""``bastion check`` with real accounts: who the application would run as decides the
account findings and whether its code is writable; nothing is switched.

The probe application's directory (conftest's ``app_dir``) is owned by the test user.
"""

from __future__ import annotations

import json
from typing import Any

from .conftest import free_port, run_bastion

APP = "probe_app:app"


def check(*args: str, cwd, run_as=None) -> tuple[int, dict[str, Any]]:
    result = run_bastion("check", "--format", "json", *args, cwd=cwd, run_as=run_as)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def findings(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {finding["id"]: finding for finding in report["findings"]}


def test_as_root_without_user_it_is_an_error(accounts, app_dir):
    status, report = check("--listen", f"127.0.0.1:{free_port()}", APP, cwd=app_dir)
    assert status == 1
    found = findings(report)
    assert found["root-without-user"]["level"] == "error"
    assert "app-writable" not in found  # root writes everything: reported once, as above


def test_user_owning_the_code_can_change_it(accounts, app_dir):
    args = ("--user", accounts.user, "--umask", "027", "--listen", f"127.0.0.1:{free_port()}")
    status, report = check(*args, APP, cwd=app_dir)
    assert status == 0  # warnings only
    found = findings(report)
    assert "root-without-user" not in found and "user-root" not in found
    writable = found["app-writable"]
    assert f"({accounts.user})" in writable["message"]
    # The directory is the user's (it can replace the file in it); the file is root's.
    assert writable["message"].endswith(f": {app_dir}")
    assert "shared-user" not in found


def test_user_root_is_an_error(app_dir):
    status, report = check(
        "--user", "root", "--listen", f"127.0.0.1:{free_port()}", APP, cwd=app_dir
    )
    assert status == 1
    assert findings(report)["user-root"]["level"] == "error"


def test_started_as_the_account_itself_the_same_is_found(accounts, app_dir):
    run_as = (accounts.uid, accounts.gid)
    args = ("--umask", "027", "--listen", f"127.0.0.1:{free_port()}", APP)
    status, report = check(*args, cwd=app_dir, run_as=run_as)
    assert status == 0
    assert f"({accounts.user})" in findings(report)["app-writable"]["message"]


def test_a_switch_that_needs_root_would_fail_the_start(accounts, app_dir):
    run_as = (accounts.uid, accounts.gid)
    status, report = check("--user", "root", APP, cwd=app_dir, run_as=run_as)
    assert status == 1
    message = findings(report)["start-fails"]["message"]
    assert "user: cannot switch to 'root': that needs root" in message
