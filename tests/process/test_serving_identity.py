"""privileges.serving_identity: the identity the application would run as, with the same
ids drop_privileges switches to, while nothing is switched (the test process stays root).

Each test asserts that no id-changing call was made (conftest's ``id_calls`` records any
instead of making it)."""

from __future__ import annotations

import os

import pytest

from bastion.config import Config
from bastion.process.privileges import (
    Identity,
    PrivilegeError,
    resolve_target,
    serving_identity,
    switch_needed,
)


def ids() -> tuple:
    return (os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups())


def test_without_user_or_group_it_is_the_process_itself(id_calls):
    before = ids()
    identity = serving_identity(Config.from_kwargs())
    assert identity.uid == os.geteuid()
    assert identity.gids == frozenset((os.getegid(), *os.getgroups()))
    assert identity.name == "root"  # the tests run as root (tests/process/conftest.py)
    assert ids() == before
    assert id_calls == []


def test_a_user_by_name_gets_its_primary_and_supplementary_groups(accounts, id_calls):
    before = ids()
    identity = serving_identity(Config.from_kwargs(user=accounts.user))
    assert identity == Identity(
        accounts.uid, accounts.user, frozenset((accounts.gid, accounts.group_gid))
    )
    assert ids() == before
    assert id_calls == []


def test_a_user_by_number_gets_only_its_group(accounts, id_calls):
    identity = serving_identity(Config.from_kwargs(user=str(accounts.uid)))
    assert identity == Identity(accounts.uid, accounts.user, frozenset((accounts.gid,)))
    assert id_calls == []


def test_a_group_alone_keeps_the_user(accounts, id_calls):
    identity = serving_identity(Config.from_kwargs(group=accounts.group))
    assert identity == Identity(os.getuid(), "root", frozenset((accounts.group_gid,)))
    assert id_calls == []


def test_an_unknown_user_is_the_same_error_as_at_start(id_calls):
    with pytest.raises(PrivilegeError, match="user: no such user 'no-such-user-bst'"):
        serving_identity(Config.from_kwargs(user="no-such-user-bst"))
    assert id_calls == []


def test_without_root_a_switch_is_refused_as_at_start(accounts, monkeypatch, id_calls):
    monkeypatch.setattr(os, "geteuid", lambda: 1234)
    monkeypatch.setattr(os, "getuid", lambda: 1234)
    config = Config.from_kwargs(user=accounts.user)
    with pytest.raises(PrivilegeError, match="that needs root, and bastion runs as uid 1234"):
        serving_identity(config)
    assert id_calls == []


def test_already_running_as_the_user_needs_no_switch(accounts, monkeypatch, id_calls):
    monkeypatch.setattr(os, "geteuid", lambda: accounts.uid)
    monkeypatch.setattr(os, "getuid", lambda: accounts.uid)
    monkeypatch.setattr(os, "getegid", lambda: accounts.gid)
    monkeypatch.setattr(os, "getgid", lambda: accounts.gid)
    monkeypatch.setattr(os, "getgroups", lambda: [accounts.gid, accounts.group_gid])
    config = Config.from_kwargs(user=accounts.user)
    target = resolve_target(config)
    assert target is not None and switch_needed(target, config) is False
    assert serving_identity(config) == Identity(
        accounts.uid, accounts.user, frozenset((accounts.gid, accounts.group_gid))
    )
    assert id_calls == []
