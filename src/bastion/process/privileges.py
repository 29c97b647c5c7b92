"""Least privilege at start-up: working directory, umask, unix socket owner, user and group.

The server applies these in two steps around binding its sockets:

0. When the configuration is built, ``check_account_options`` applies the rules that need
   no look-up: the account options are Unix-only, ``unix_socket_owner`` has one of its
   forms and needs ``unix_socket``.
1. ``prepare_process(config)``: check that ``user``, ``group`` and ``unix_socket_owner``
   name real accounts (so a typo fails before anything is bound), then ``chdir`` to
   ``working_directory`` and set ``umask``.  Look-ups stay here, at start-up: they read
   this machine's account database, which ``--print-config`` and building a configuration
   do not depend on, and the accounts may be created between the two.
2. The listening sockets are bound (privileged ports still allowed).
3. ``drop_privileges(config, listeners)``: give the unix socket file bastion created the
   ``unix_socket_owner``, then switch groups (supplementary, then primary) and user, and
   check that the switch stuck: real, effective and saved ids all changed, and root
   cannot be regained.  HOME, USER and LOGNAME are set from the new user's entry.

The application is loaded after step 3.  Any failure raises :class:`PrivilegeError`; the
process never goes on as root when ``user`` was asked for.  ``pwd`` and ``grp`` are
imported only when needed, so this module imports on Windows, where ``umask`` and
``working_directory`` work and the account options are refused.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

logger = logging.getLogger("bastion.server")

_OWNER_FORMS = "'user', 'user:group' or ':group'"
_HAS_ACCOUNTS = os.name == "posix"  # the pwd and grp databases


class PrivilegeError(ConfigError):
    """A process setting (user, group, umask, working_directory, unix socket owner) failed."""


@dataclass(frozen=True)
class Account:
    """A user or group to switch to: its id, and its database entry's name when it has one."""

    id: int
    name: str | None
    by_name: bool

    def describe(self) -> str:
        return f"{self.name} ({self.id})" if self.name else str(self.id)


@dataclass(frozen=True)
class Target:
    """The identity the process switches to; ``user`` None switches the group only."""

    user: Account | None
    group: Account
    home: str | None


def parse_owner(value: str) -> tuple[str | None, str | None]:
    """Split ``unix_socket_owner`` into (user, group); either may be None, not both."""
    user, colon, group = value.partition(":")
    if ":" in group or (colon and not group) or not (user or group):
        raise PrivilegeError(
            f"unix_socket_owner: {value!r} is not {_OWNER_FORMS}", option="unix_socket_owner"
        )
    return user or None, group or None


def check_account_options(
    user: str | None, group: str | None, unix_socket_owner: str | None, unix_socket: str | None
) -> None:
    """The account options' rules that need no look-up (the configuration applies them)."""
    accounts = {"user": user, "group": group, "unix_socket_owner": unix_socket_owner}
    for option, value in accounts.items():
        if value is not None and not _HAS_ACCOUNTS:
            raise PrivilegeError(f"{option} is Unix-only", option=option)
    if unix_socket_owner is not None:
        if not unix_socket:
            raise PrivilegeError(
                "unix_socket_owner is set, but bastion creates no unix socket file (it applies "
                "to unix_socket only; sockets passed in keep their owner)",
                option="unix_socket_owner",
            )
        parse_owner(unix_socket_owner)


def prepare_process(config: Any) -> None:
    """Look the accounts up, then apply ``working_directory`` and ``umask``."""
    resolve_target(config)
    if config.unix_socket_owner is not None:
        _resolve_owner(config.unix_socket_owner)
    directory = config.working_directory
    if directory is not None:
        try:
            os.chdir(directory)
        except OSError as error:
            raise PrivilegeError(
                f"working_directory: cannot change to {directory!r}: {error.strerror}",
                option="working_directory",
            ) from None
        logger.info("Working directory: %s", os.getcwd())
    if config.umask is not None:
        os.umask(config.umask)
        logger.info("umask: %04o", config.umask)


def drop_privileges(config: Any, listeners: Iterable[Any]) -> None:
    """Own the unix socket file as asked, then switch group and user; verify the switch.

    On failure the listeners are closed (removing the socket file bastion created), since
    the server that would have closed them is never built.
    """
    listeners = list(listeners)
    try:
        if config.unix_socket_owner is not None:
            _chown_sockets(config.unix_socket_owner, listeners)
        target = resolve_target(config)
        if target is not None:
            _switch(target, config)
    except BaseException:
        for listener in listeners:
            listener.close()
        raise


def resolve_target(config: Any) -> Target | None:
    """The identity ``user`` and ``group`` ask for, looked up; None when neither is set."""
    if config.user is None and config.group is None:
        return None
    user = entry = None
    if config.user is not None:
        user, entry = _lookup_user(config.user, "user")
    if config.group is not None:
        group = _lookup_group(config.group, "group")
    elif entry is not None:
        group = _group_account(entry.pw_gid)
    else:
        raise PrivilegeError(
            f"user: {config.user!r} has no entry in the user database, so it has no "
            "primary group: set group as well",
            option="user",
        )
    return Target(user, group, entry.pw_dir if entry is not None else None)


# -- looking accounts up ------------------------------------------------------------------


def _unix_module(name: str) -> Any:
    # Only reached on Unix: check_account_options refuses the account options elsewhere
    # (by platform, not by ImportError: after a switch, an interpreter installed where the
    # new user cannot read fails to import modules for other reasons).
    return importlib.import_module(name)


def _lookup_user(value: str, option: str) -> tuple[Account, Any]:
    pwd = _unix_module("pwd")
    if value.isdigit():
        uid = int(value)
        try:
            entry = pwd.getpwuid(uid)
        except KeyError:
            return Account(uid, None, False), None
        return Account(uid, entry.pw_name, False), entry
    try:
        entry = pwd.getpwnam(value)
    except KeyError:
        raise PrivilegeError(f"{option}: no such user {value!r}", option=option) from None
    return Account(entry.pw_uid, entry.pw_name, True), entry


def _lookup_group(value: str, option: str) -> Account:
    grp = _unix_module("grp")
    if value.isdigit():
        return _group_account(int(value))
    try:
        entry = grp.getgrnam(value)
    except KeyError:
        raise PrivilegeError(f"{option}: no such group {value!r}", option=option) from None
    return Account(entry.gr_gid, entry.gr_name, True)


def _group_account(gid: int) -> Account:
    grp = _unix_module("grp")
    try:
        return Account(gid, grp.getgrgid(gid).gr_name, False)
    except KeyError:
        return Account(gid, None, False)


def _resolve_owner(value: str) -> tuple[Account | None, Account | None]:
    user_value, group_value = parse_owner(value)
    user = _lookup_user(user_value, "unix_socket_owner")[0] if user_value else None
    group = _lookup_group(group_value, "unix_socket_owner") if group_value else None
    return user, group


# -- applying -----------------------------------------------------------------------------


def _chown_sockets(value: str, listeners: list[Any]) -> None:
    paths = [lst.bound_path for lst in listeners if lst.is_unix and lst.bound_path is not None]
    user, group = _resolve_owner(value)
    for path in paths:
        try:
            os.chown(path, user.id if user else -1, group.id if group else -1)
        except OSError as error:
            raise PrivilegeError(
                f"unix_socket_owner: cannot give {path} to {value!r}: {error.strerror}",
                option="unix_socket_owner",
            ) from None
        logger.info(
            "Unix socket %s: owner %s, group %s",
            path,
            user.describe() if user else "unchanged",
            group.describe() if group else "unchanged",
        )


def switch_needed(target: Target, config: Any) -> bool:
    """True when the process must switch to ``target``, False when it already runs as it.

    Raises ``PrivilegeError`` when the switch needs root and the process is not root.
    """
    user, group = target.user, target.group
    uid = user.id if user is not None else os.getuid()
    if os.geteuid() == 0:
        return True
    if (os.getuid(), os.geteuid(), os.getgid(), os.getegid()) == (uid, uid, group.id, group.id):
        return False
    option = "user" if user is not None else "group"
    asked = config.user if user is not None else config.group
    raise PrivilegeError(
        f"{option}: cannot switch to {asked!r}: that needs root, and bastion runs as "
        f"uid {os.geteuid()}",
        option=option,
    )


@dataclass(frozen=True)
class Identity:
    """Who the application runs as: its user id, the user's name if known, its group ids."""

    uid: int
    name: str | None
    gids: frozenset[int]


def serving_identity(config: Any) -> Identity:
    """The identity the application will run as, switching nothing (Unix only).

    The same ids as ``drop_privileges`` sets: a user given by name gets its supplementary
    groups from the group database; raises ``PrivilegeError`` as that would.
    """
    target = resolve_target(config)
    if target is None or not switch_needed(target, config):
        uid = os.geteuid()
        return Identity(uid, _user_name(uid), frozenset((os.getegid(), *os.getgroups())))
    user, group = target.user, target.group
    if user is None:
        uid = os.getuid()
        return Identity(uid, _user_name(uid), frozenset((group.id,)))
    if user.by_name and user.name is not None:
        gids = frozenset(os.getgrouplist(user.name, group.id))
    else:
        gids = frozenset((group.id,))
    return Identity(user.id, user.name, gids)


def _user_name(uid: int) -> str | None:
    return _lookup_user(str(uid), "user")[0].name


def _switch(target: Target, config: Any) -> None:
    user, group = target.user, target.group
    uid = user.id if user is not None else os.getuid()
    option = "user" if user is not None else "group"
    asked = config.user if user is not None else config.group
    if not switch_needed(target, config):
        logger.info("Already running as user %s, group %s", uid, group.describe())
        return
    try:
        if user is not None and user.by_name and user.name is not None:
            os.initgroups(user.name, group.id)
        else:
            os.setgroups([group.id])
        os.setgid(group.id)
        if user is not None:
            os.setuid(user.id)
    except OSError as error:
        raise PrivilegeError(
            f"{option}: cannot switch to {asked!r}: {error.strerror}", option=option
        ) from None
    _verify(uid, group.id, option, asked)
    if uid == 0:
        logger.warning("Running as root: the application gets every privilege of the host")
    if user is not None:
        _set_environment(user, target.home)
        logger.info(
            "Switched to user %s, group %s, groups %s",
            user.describe(),
            group.describe(),
            sorted(os.getgroups()),
        )
    else:
        logger.info("Switched to group %s (user unchanged: %s)", group.describe(), uid)
    _warn_if_cwd_unusable(user)


def _verify(uid: int, gid: int, option: str, asked: str) -> None:
    """Refuse to go on unless every id changed and root cannot be taken back."""
    uids = os.getresuid() if hasattr(os, "getresuid") else (os.getuid(), os.geteuid())
    gids = os.getresgid() if hasattr(os, "getresgid") else (os.getgid(), os.getegid())
    if set(uids) != {uid} or set(gids) != {gid}:
        problem = f"the process runs with uids {uids} and gids {gids}"
    elif uid == 0:
        return
    else:
        try:
            os.setuid(0)
        except PermissionError:
            return
        problem = "root could be regained with setuid(0)"
    raise PrivilegeError(
        f"{option}: switching to {asked!r} did not stick: {problem}", option=option
    )


def _set_environment(user: Account, home: str | None) -> None:
    # The old values name root; with no database entry there is nothing truer to put there.
    if user.name is None or home is None:
        for key in ("HOME", "USER", "LOGNAME"):
            os.environ.pop(key, None)
        return
    os.environ["HOME"] = home
    os.environ["USER"] = os.environ["LOGNAME"] = user.name


def _warn_if_cwd_unusable(user: Account | None) -> None:
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = "."
    if not os.access(cwd, os.R_OK | os.X_OK):
        logger.warning(
            "The working directory %s is not readable by %s: the application cannot be "
            "imported from it; set working_directory to a directory it can read",
            cwd,
            f"user {user.describe()}" if user else "the new group",
        )
