"""bastion.process.privileges in-process: parsing, look-ups, error messages, and the verification.

Nothing here really switches user: conftest's ``id_calls`` replaces every call that would
(setuid and friends) with a recorder, so the test process stays root, and each test of
``drop_privileges`` asserts exactly which of those calls it made, with which ids.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from bastion.config import Config
from bastion.errors import ConfigError
from bastion.process import privileges
from bastion.process.privileges import (
    PrivilegeError,
    drop_privileges,
    parse_owner,
    prepare_process,
    resolve_target,
)

NO_SUCH_UID = "4000000000"


@pytest.fixture
def restore_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    yield
    os.umask(mask)


class FakeListener:
    is_unix = False
    bound_path = None

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    "value, expected",
    [
        ("www", ("www", None)),
        ("www:web", ("www", "web")),
        (":web", (None, "web")),
        ("1000:1001", ("1000", "1001")),
    ],
)
def test_parse_owner(value, expected):
    assert parse_owner(value) == expected


@pytest.mark.parametrize("value", ["www:", ":", "a:b:c", "::web"])
def test_parse_owner_refuses_other_forms(value):
    with pytest.raises(PrivilegeError) as info:
        parse_owner(value)
    assert info.value.option == "unix_socket_owner"
    assert str(info.value) == (
        f"unix_socket_owner: {value!r} is not 'user', 'user:group' or ':group'"
    )


def test_privilege_error_is_a_config_error():
    assert issubclass(PrivilegeError, ConfigError)


def test_user_alone_takes_the_users_primary_group(accounts):
    target = resolve_target(Config.from_kwargs(user=accounts.user))
    assert target is not None and target.user is not None
    assert (target.user.id, target.user.name, target.user.by_name) == (
        accounts.uid,
        accounts.user,
        True,
    )
    assert (target.group.id, target.group.name) == (accounts.gid, accounts.user)
    assert target.home == accounts.home


def test_numeric_ids_are_looked_up_but_not_by_name(accounts):
    config = Config.from_kwargs(user=str(accounts.uid), group=str(accounts.group_gid))
    target = resolve_target(config)
    assert target is not None and target.user is not None
    assert (target.user.id, target.user.name, target.user.by_name) == (
        accounts.uid,
        accounts.user,
        False,
    )
    assert (target.group.id, target.group.name) == (accounts.group_gid, accounts.group)


def test_nothing_asked_resolves_to_nothing():
    assert resolve_target(Config.from_kwargs()) is None


def test_a_numeric_user_without_an_entry_needs_a_group():
    with pytest.raises(PrivilegeError) as info:
        resolve_target(Config.from_kwargs(user=NO_SUCH_UID))
    assert info.value.option == "user"
    assert "has no entry in the user database" in str(info.value)
    assert "set group as well" in str(info.value)
    target = resolve_target(Config.from_kwargs(user=NO_SUCH_UID, group="0"))
    assert target is not None and target.user is not None
    assert (target.user.id, target.user.name, target.group.id) == (int(NO_SUCH_UID), None, 0)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"user": "bastion-nobody-x"}, "user: no such user 'bastion-nobody-x'"),
        ({"group": "bastion-nogroup-x"}, "group: no such group 'bastion-nogroup-x'"),
        (
            {"unix_socket": "/tmp/x.sock", "unix_socket_owner": "bastion-nobody-x"},
            "unix_socket_owner: no such user 'bastion-nobody-x'",
        ),
        (
            {"unix_socket": "/tmp/x.sock", "unix_socket_owner": ":bastion-nogroup-x"},
            "unix_socket_owner: no such group 'bastion-nogroup-x'",
        ),
    ],
)
def test_prepare_process_checks_accounts_before_anything_is_bound(options, message):
    option = next(key for key in options if key != "unix_socket")
    config = Config.from_kwargs(**options)
    with pytest.raises(PrivilegeError) as info:
        prepare_process(config)
    assert str(info.value).startswith(message)
    assert info.value.option == option


def test_working_directory_and_umask(tmp_path, monkeypatch, restore_umask):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "srv"
    target.mkdir()
    prepare_process(Config.from_kwargs(working_directory=str(target), umask="077"))
    assert Path.cwd() == target
    mask = os.umask(0o022)
    assert mask == 0o077


def test_a_missing_working_directory_is_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = str(tmp_path / "missing")
    with pytest.raises(PrivilegeError) as info:
        prepare_process(Config.from_kwargs(working_directory=missing))
    assert info.value.option == "working_directory"
    assert str(info.value) == (
        f"working_directory: cannot change to {missing!r}: No such file or directory"
    )
    assert Path.cwd() == tmp_path


@pytest.mark.parametrize(
    "options", [{"user": "www"}, {"group": "www"}, {"unix_socket_owner": ":www"}]
)
def test_account_options_are_unix_only(monkeypatch, options):
    """Refused when the configuration is built: no look-up is needed to know."""
    monkeypatch.setattr(privileges, "_HAS_ACCOUNTS", False)
    option = next(iter(options))
    with pytest.raises(PrivilegeError) as info:
        Config.from_kwargs(unix_socket="/tmp/x.sock", **options)
    assert str(info.value) == f"{option} is Unix-only"
    assert (info.value.option, info.value.source) == (option, "argument")


def test_umask_and_working_directory_work_without_accounts(tmp_path, monkeypatch, restore_umask):
    monkeypatch.setattr(privileges, "_HAS_ACCOUNTS", False)
    monkeypatch.chdir("/")
    prepare_process(Config.from_kwargs(working_directory=str(tmp_path), umask="027"))
    assert Path.cwd() == tmp_path
    assert os.umask(0o022) == 0o027


def test_a_failed_drop_closes_the_listeners(id_calls):
    listeners = [FakeListener(), FakeListener()]
    with pytest.raises(PrivilegeError):
        drop_privileges(Config.from_kwargs(user=NO_SUCH_UID), listeners)
    assert all(listener.closed for listener in listeners)
    assert id_calls == []  # the look-up failed before any switch


def test_nothing_asked_changes_nothing(id_calls):
    listeners = [FakeListener()]
    before = (os.getuid(), os.getgid(), os.getgroups())
    drop_privileges(Config.from_kwargs(), listeners)
    assert (os.getuid(), os.getgid(), os.getgroups()) == before
    assert not listeners[0].closed
    assert id_calls == []


@pytest.fixture
def marked_environment(monkeypatch):
    """HOME, USER and LOGNAME set to "untouched", to see whether a switch rewrote them."""
    for key in ("HOME", "USER", "LOGNAME"):
        monkeypatch.setenv(key, "untouched")


def untouched_environment() -> bool:
    return all(os.environ[key] == "untouched" for key in ("HOME", "USER", "LOGNAME"))


def test_without_root_a_switch_is_refused(accounts, monkeypatch, id_calls, marked_environment):
    monkeypatch.setattr(os, "geteuid", lambda: 1234)
    monkeypatch.setattr(os, "getuid", lambda: 1234)
    with pytest.raises(PrivilegeError) as info:
        drop_privileges(Config.from_kwargs(user=accounts.user), [])
    assert str(info.value) == (
        f"user: cannot switch to {accounts.user!r}: that needs root, and bastion runs as uid 1234"
    )
    assert id_calls == []  # refused before trying
    assert untouched_environment()


def test_without_root_the_current_identity_is_accepted(
    accounts, monkeypatch, caplog, id_calls, marked_environment
):
    monkeypatch.setattr(os, "geteuid", lambda: accounts.uid)
    monkeypatch.setattr(os, "getuid", lambda: accounts.uid)
    monkeypatch.setattr(os, "getegid", lambda: accounts.gid)
    monkeypatch.setattr(os, "getgid", lambda: accounts.gid)
    caplog.set_level(logging.INFO, logger="bastion.server")
    listeners = [FakeListener()]
    drop_privileges(Config.from_kwargs(user=accounts.user), listeners)
    assert id_calls == []  # already that user: nothing to switch
    assert f"Already running as user {accounts.uid}, group {accounts.user} ({accounts.gid})" in (
        caplog.text
    )
    assert "Switched to" not in caplog.text
    assert not listeners[0].closed
    assert untouched_environment()


def test_a_switch_that_did_not_happen_is_an_error(accounts, id_calls, marked_environment):
    with pytest.raises(PrivilegeError) as info:
        drop_privileges(Config.from_kwargs(user=accounts.user), [])
    assert str(info.value).startswith(
        f"user: switching to {accounts.user!r} did not stick: the process runs with uids"
    )
    assert id_calls == [
        ("initgroups", accounts.user, accounts.gid),
        ("setgid", accounts.gid),
        ("setuid", accounts.uid),
    ]
    assert untouched_environment()


def test_root_that_can_be_regained_is_an_error(accounts, id_calls, monkeypatch):
    uid, gid = accounts.uid, accounts.group_gid
    monkeypatch.setattr(os, "getresuid", lambda: (uid, uid, uid))
    monkeypatch.setattr(os, "getresgid", lambda: (gid, gid, gid))
    config = Config.from_kwargs(user=str(uid), group=accounts.group)
    with pytest.raises(PrivilegeError) as info:
        drop_privileges(config, [])
    assert str(info.value) == (
        f"user: switching to '{uid}' did not stick: root could be regained with setuid(0)"
    )
    # A numeric user gets only the asked group; the verification's setuid(0) "succeeded".
    assert id_calls == [("setgroups", [gid]), ("setgid", gid), ("setuid", uid), ("setuid", 0)]


def test_a_refused_switch_is_an_error(accounts, id_calls):
    id_calls.refuse("initgroups", PermissionError(1, "Operation not permitted"))
    with pytest.raises(PrivilegeError) as info:
        drop_privileges(Config.from_kwargs(user=accounts.user), [])
    assert str(info.value) == (f"user: cannot switch to {accounts.user!r}: Operation not permitted")
    assert id_calls == [("initgroups", accounts.user, accounts.gid)]  # nothing after the refusal
