"""``bastion check``: a deployment checker, in the spirit of Django's ``check --deploy``.

It looks at what a real start with the same options and application would do: the account
the application runs as, where it listens, the proxy it trusts, the files it is loaded
from, the umask, the slow-client timeouts and debug pages. It binds no socket and switches
no user. Each finding has a stable id, a level and a fix; docs/security.md lists them all.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .config.options import BY_NAME
from .debug_guard import RISK, debug_reasons, exposure, remedy
from .errors import ConfigError, with_source
from .exposure import Address, planned_addresses, reachable
from .process.privileges import Identity, serving_identity

ERROR, WARNING, INFO = "error", "warning", "info"
LEVELS = (ERROR, WARNING, INFO)

# Accounts shared with other services on most distributions (seed 002: never these).
SHARED_ACCOUNTS = frozenset(("www-data", "apache", "http", "httpd", "nginx", "nobody"))
# Directories shared with every process on the host.
TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
# At least these bits masked: new files unreadable by other users (umask 027).
UMASK_REQUIRED = 0o027
# A slow-client timeout above its ceiling (seconds) no longer stops a slowloris client.
TIMEOUT_CEILINGS = {
    "header_timeout": 60.0,
    "header_max_timeout": 120.0,
    "body_timeout": 120.0,
    "send_timeout": 300.0,
    "channel_timeout": 3600.0,
}


#: Every finding's id and level, in the order docs/security.md lists them.
LEVEL_OF: Mapping[str, str] = MappingProxyType(
    {
        "start-fails": ERROR,
        "root-without-user": ERROR,
        "user-root": ERROR,
        "shared-user": WARNING,
        "exposed-behind-proxy": WARNING,
        "trusted-proxy-any": WARNING,
        "app-writable": WARNING,
        "tmp-location": WARNING,
        "world-writable": WARNING,
        "umask-loose": WARNING,
        "slow-client-timeout": WARNING,
        "debug-app": ERROR,
        "debug-app-allowed": WARNING,
        "debug-app-local": WARNING,
        "no-app": INFO,
    }
)


@dataclass(frozen=True)
class Finding:
    """One piece of advice: a stable id, error/warning/info, what was found, and the fix."""

    id: str
    level: str
    message: str
    fix: str


@dataclass(frozen=True)
class Deployment:
    """What a real start would use: options, application, account and listening addresses."""

    config: Any
    app: Any
    app_name: str | None
    app_files: tuple[Path, ...]  # the application's module file and its package directories
    identity: Identity | None  # None where it cannot be known (Windows, or a failed look-up)
    addresses: tuple[Address, ...]
    working_directory: Path


def _finding(finding_id: str, message: str, fix: str) -> Finding:
    return Finding(finding_id, LEVEL_OF[finding_id], message, fix)


def check_start(
    config: Any, app: Any, app_name: str | None, problems: Iterable[Finding] = ()
) -> list[Finding]:
    """Every finding for a start with ``config`` and ``app`` imported from ``app_name`` (``app``
    None when it failed to load, both None when none was named), after ``problems`` found on
    the way (see ``start_fails``); errors first, each once."""
    deployment, found = survey(config, app, app_name)
    findings = [*problems, *found, *check(deployment)]
    unique = list(dict.fromkeys(findings))
    return sorted(unique, key=lambda finding: LEVELS.index(finding.level))


def check(deployment: Deployment) -> list[Finding]:
    """The findings of every rule for ``deployment``, in the rules' order."""
    return [finding for rule in RULES for finding in rule(deployment)]


def survey(config: Any, app: Any, app_name: str | None) -> tuple[Deployment, list[Finding]]:
    """The deployment a start would make, and a ``start-fails`` finding for each thing that
    would stop it (account, listen address); nothing is bound or switched."""
    problems: list[Finding] = []
    identity = None
    if os.name == "posix":
        try:
            identity = serving_identity(config)
        except ConfigError as error:
            problems.append(start_fails(with_source(error, getattr(config, "sources", {}))))
    addresses: list[Address] = []
    try:
        addresses = planned_addresses(config)
    except ConfigError as error:
        problems.append(start_fails(with_source(error, getattr(config, "sources", {}))))
    deployment = Deployment(
        config=config,
        app=app,
        app_name=app_name,
        app_files=tuple(app_files(app_name)) if app is not None and app_name else (),
        identity=identity,
        addresses=tuple(addresses),
        working_directory=Path.cwd(),
    )
    return deployment, problems


def start_fails(reason: str) -> Finding:
    """The finding for something that would stop a real start."""
    return _finding(
        "start-fails",
        f"a real start would fail: {reason}",
        "correct the option or the application named; the other findings are as far as "
        "bastion check could see",
    )


def app_files(app_name: str) -> Iterator[Path]:
    """The file of the module ``app_name`` is imported from, and the directories of it and
    of its top-level package; the module must already be imported."""
    module = _module_of(app_name)
    file = getattr(module, "__file__", None)
    if not file:
        return
    path = Path(file).resolve()
    yield path
    yield path.parent
    top = sys.modules.get(module.__name__.partition(".")[0])
    top_file = getattr(top, "__file__", None)
    if top_file and Path(top_file).name == "__init__.py":
        top_dir = Path(top_file).resolve().parent
        if top_dir != path.parent:
            yield top_dir


def _module_of(app_name: str) -> Any:
    name = app_name.partition(":")[0]
    parts = name.split(".")
    for end in range(len(parts), 0, -1):  # 'pkg.mod.obj' without a colon: longest module
        module = sys.modules.get(".".join(parts[:end]))
        if module is not None:
            return module
    return None


# -- the rules ------------------------------------------------------------------------------


def _account(d: Deployment) -> Iterator[Finding]:
    identity, config = d.identity, d.config
    if identity is None:
        return
    who = f"{identity.name} ({identity.uid})" if identity.name else str(identity.uid)
    if identity.uid == 0 and config.user is None:
        yield _finding(
            "root-without-user",
            "bastion runs as root and user is not set: the application would run with "
            "every privilege of the host",
            "start bastion as a dedicated account (systemd User=, Docker USER), or set user "
            "and group to one (--user example-app --group example-app)",
        )
    elif identity.uid == 0:
        yield _finding(
            "user-root",
            f"user is {config.user!r}, which is root: switching to it drops nothing",
            "set user and group to a dedicated, unprivileged account for this application",
        )
    if identity.name in SHARED_ACCOUNTS:
        yield _finding(
            "shared-user",
            f"the application would run as {who}, an account shared with other services "
            "(web server, static files, other applications)",
            "create a dedicated account for this application (example-app) and run as it",
        )


def _exposed_behind_proxy(d: Deployment) -> Iterator[Finding]:
    exposed = reachable(d.addresses)
    if d.config.trusted_proxy is not None and exposed:
        yield _finding(
            "exposed-behind-proxy",
            f"trusted_proxy is set, so bastion runs behind a proxy, yet it listens on "
            f"{', '.join(exposed)}, which other hosts can reach directly, past the proxy",
            "listen on 127.0.0.1 (or a unix socket) when the proxy runs on this host; "
            "otherwise only on the private address the proxy connects to, behind a firewall",
        )


def _trusted_proxy_any(d: Deployment) -> Iterator[Finding]:
    if d.config.trusted_proxy is not None and "*" in d.config.trusted_proxy:
        yield _finding(
            "trusted-proxy-any",
            "trusted_proxy is '*': any client that reaches bastion can forge the forwarding "
            "headers (client address, scheme, host)",
            "list the proxies' addresses or networks in trusted_proxy ('127.0.0.1', "
            "'10.0.0.0/24', 'local', 'unix')",
        )


def _app_writable(d: Deployment) -> Iterator[Finding]:
    identity = d.identity
    if identity is None or identity.uid == 0:  # root writes everything: already an error
        return
    writable = [str(path) for path in d.app_files if _writable_by(path, identity)]
    if writable:
        yield _finding(
            "app-writable",
            f"the application's code can be changed by the account it runs as "
            f"({identity.name or identity.uid}): {', '.join(writable)}",
            "have the code owned by the deployment account (the one that installs it), "
            "readable but not writable by the serving account",
        )


def _tmp_location(d: Deployment) -> Iterator[Finding]:
    tmp_dirs = {Path(p).resolve() for p in (tempfile.gettempdir(), *TMP_DIRS)}
    inside = [
        f"{what} {path}"
        for what, path in _places(d)
        if path.is_dir() and any(path == tmp or tmp in path.parents for tmp in tmp_dirs)
    ]
    if inside:
        yield _finding(
            "tmp-location",
            f"{', '.join(inside)} {'is' if len(inside) == 1 else 'are'} in a temporary "
            "directory shared with every process on the host, where names can be predicted "
            "and raced",
            "use a dedicated directory such as /var/lib/example-app or /srv/example-app",
        )


def _world_writable(d: Deployment) -> Iterator[Finding]:
    if os.name != "posix":  # no mode bits to read
        return
    opened: dict[Path, str] = {}
    for what, path in _places(d):
        where = _world_opened(path)
        if where is not None:
            opened.setdefault(where, f"{what} {path}")
    if opened:
        yield _finding(
            "world-writable",
            f"{', '.join(opened.values())}: any user on the host can change "
            f"{', '.join(map(str, opened))}, which is world-writable",
            f"chmod o-w {' '.join(map(str, opened))}",
        )


def _umask(d: Deployment) -> Iterator[Finding]:
    mask = d.config.umask if d.config.umask is not None else _current_umask()
    if mask & UMASK_REQUIRED != UMASK_REQUIRED:
        where = "is" if d.config.umask is not None else "is unset; the inherited one is"
        yield _finding(
            "umask-loose",
            f"umask {where} {mask:04o}: files the application creates are readable (or "
            "writable) by other users",
            "set umask to '027' (--umask 027)",
        )


def _slow_clients(d: Deployment) -> Iterator[Finding]:
    config = d.config
    if config.header_max_timeout == 0 and config.header_min_rate > 0:
        yield _finding(
            "slow-client-timeout",
            f"header_max_timeout is 0, no ceiling: a client sending {config.header_min_rate} "
            "bytes of request head a second holds its connection for as long as it likes",
            f"set header_max_timeout (the default is {_default('header_max_timeout'):g})",
        )
    for name, ceiling in TIMEOUT_CEILINGS.items():
        value = getattr(config, name)
        if value > ceiling:
            yield _finding(
                "slow-client-timeout",
                f"{name} is {value:g} s (over {ceiling:g} s): slow clients can hold "
                "connections that long",
                f"lower {name} (the default is {_default(name):g})",
            )


def _debug_pages(d: Deployment) -> Iterator[Finding]:
    reasons = debug_reasons(d.app, d.config)
    if not reasons:
        return
    exposed = reachable(d.addresses)
    if exposed and not d.config.allow_debug_app:
        yield _finding(
            "debug-app",
            f"bastion would refuse to serve {exposure(reasons, exposed)}: {RISK}",
            remedy(),
        )
    elif exposed:
        yield _finding(
            "debug-app-allowed",
            f"debug pages ({'; '.join(reasons)}) are served on {', '.join(exposed)}, which "
            "other hosts can reach, because allow_debug_app is on",
            "turn the debug pages off for production and unset allow_debug_app",
        )
    else:
        yield _finding(
            "debug-app-local",
            f"debug pages ({'; '.join(reasons)}) are on; bastion listens on loopback and "
            "unix sockets only, where other local users and a local proxy can reach them",
            "turn the debug pages off for production",
        )


def _no_app(d: Deployment) -> Iterator[Finding]:
    if d.app_name is None:
        yield _finding(
            "no-app",
            "no application named: only the options and the process were checked",
            "name the application as for serving: bastion check [OPTIONS] MODULE:OBJECT",
        )


RULES: Sequence[Callable[[Deployment], Iterable[Finding]]] = (
    _account,
    _exposed_behind_proxy,
    _trusted_proxy_any,
    _app_writable,
    _tmp_location,
    _world_writable,
    _umask,
    _slow_clients,
    _debug_pages,
    _no_app,
)


# -- files and the process ------------------------------------------------------------------


def _places(d: Deployment) -> list[tuple[str, Path]]:
    """The working directory and the application's files, each path once."""
    places = {d.working_directory.resolve(): "the working directory"}
    for path in d.app_files:
        places.setdefault(path, "the application's " + ("file" if path.is_file() else "directory"))
    return [(what, path) for path, what in places.items()]


def _writable_by(path: Path, identity: Identity) -> bool:
    """Whether ``identity`` can write ``path`` by its mode bits (its owner can chmod it)."""
    try:
        st = path.stat()
    except OSError:
        return False
    if st.st_uid == identity.uid:
        return True
    if st.st_gid in identity.gids and st.st_mode & stat.S_IWGRP:
        return True
    return bool(st.st_mode & stat.S_IWOTH)


def _world_opened(path: Path) -> Path | None:
    """``path`` if any user may write it; else the first directory above it in which any
    user may rename entries (world-writable without the sticky bit); else None."""
    try:
        if path.stat().st_mode & stat.S_IWOTH:
            return path
        for parent in path.parents:
            mode = parent.stat().st_mode
            if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
                return parent
    except OSError:
        return None
    return None


def _current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _default(name: str) -> float:
    return float(BY_NAME[name].default)


# -- reports --------------------------------------------------------------------------------


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings of each level."""
    tally = dict.fromkeys(LEVELS, 0)
    for finding in findings:
        tally[finding.level] += 1
    return tally


def exit_status(findings: Iterable[Finding]) -> int:
    """1 when any finding is an error, else 0."""
    return 1 if any(finding.level == ERROR for finding in findings) else 0


def render_json(findings: Sequence[Finding]) -> str:
    """``{"ok": ..., "counts": {...}, "findings": [{id, level, message, fix}, ...]}``."""
    report = {
        "ok": exit_status(findings) == 0,
        "counts": counts(findings),
        "findings": [asdict(finding) for finding in findings],
    }
    return json.dumps(report, indent=2) + "\n"


def render_text(findings: Sequence[Finding]) -> str:
    """One block per finding (level, id, message, fix), then a count by level."""
    lines = []
    for finding in findings:
        lines.append(f"{finding.level.upper()} [{finding.id}] {finding.message}")
        lines.append(f"    fix: {finding.fix}")
    tally = counts(findings)
    summary = ", ".join(
        f"{tally[level]} {level}{'s' if tally[level] != 1 and level != INFO else ''}"
        for level in LEVELS
    )
    lines.append(f"bastion check: {summary}" if findings else "bastion check: no findings")
    return "\n".join(lines) + "\n"
