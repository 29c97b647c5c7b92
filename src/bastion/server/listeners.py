"""Listening sockets: TCP on every address ``listen`` names, a unix socket, or sockets given."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import ConfigError


class Listener:
    """One listening socket and what the environ needs to know about it."""

    __slots__ = ("bound_path", "family", "is_unix", "port", "server_name", "sock", "url")

    def __init__(
        self, sock: socket.socket, server_name: str, bound_path: str | None = None
    ) -> None:
        self.sock = sock
        # The unix socket file bastion itself created (and so removes on close); None for
        # TCP and for sockets handed over with ``sockets``.
        self.bound_path = bound_path
        self.family = sock.family
        self.is_unix = sock.family == getattr(socket, "AF_UNIX", None)
        if self.is_unix:
            path = sock.getsockname()
            self.port = "0"
            self.url = f"unix:{path}"
            self.server_name = server_name or "localhost"
        else:
            host, port = sock.getsockname()[:2]
            self.port = str(port)
            shown = f"[{host}]" if ":" in host else host
            self.url = f"http://{shown}:{port}"
            self.server_name = server_name or host

    def close(self) -> None:
        path = self.bound_path
        if path is not None:
            self.bound_path = None
            try:
                if stat.S_ISSOCK(os.stat(path).st_mode):
                    os.unlink(path)
            except OSError:
                pass
        self.sock.close()


def create_listeners(config: Any) -> list[Listener]:
    """Bind and listen on everything ``config`` asks for; the sockets are non-blocking."""
    listeners: list[Listener] = []
    try:
        for sock in config.sockets or ():
            sock.setblocking(False)
            listeners.append(Listener(sock, config.server_name))
        if config.unix_socket:
            listeners.append(
                Listener(
                    _bind_unix(config.unix_socket, config.unix_socket_perms, config.backlog),
                    config.server_name,
                    bound_path=config.unix_socket,
                )
            )
        if not config.sockets and not config.unix_socket:
            for host, port in config.listen:
                for sock in _bind_tcp(
                    host, port, config.ipv4, config.ipv6, config.backlog, config.socket_options
                ):
                    listeners.append(Listener(sock, config.server_name))
    except BaseException:
        for listener in listeners:
            listener.close()
        raise
    if not listeners:
        raise ConfigError("nothing to listen on: check listen, ipv4 and ipv6")
    return listeners


def resolve_tcp(host: str, port: int, ipv4: bool, ipv6: bool) -> list[tuple[Any, ...]]:
    """The distinct ``(family, type, proto, sockaddr)`` that ``host:port`` is bound as.

    ``''`` and ``'*'`` are every address; ``ipv4`` and ``ipv6`` narrow the families.  Raises
    ``ConfigError`` for a name that does not resolve.  Nothing is bound.
    """
    if ipv4 and ipv6:
        family = socket.AF_UNSPEC
    elif ipv6:
        family = socket.AF_INET6
    else:
        family = socket.AF_INET
    lookup_host = None if host in ("", "*") else host.strip("[]")
    try:
        infos = socket.getaddrinfo(
            lookup_host, port, family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
        )
    except socket.gaierror as error:
        raise ConfigError(f"cannot resolve listen address {host!r}: {error}") from None
    resolved: list[tuple[Any, ...]] = []
    seen: set[Any] = set()
    for family_, socktype, proto, _, sockaddr in infos:
        if sockaddr not in seen:
            seen.add(sockaddr)
            resolved.append((family_, socktype, proto, sockaddr))
    return resolved


def _bind_tcp(
    host: str,
    port: int,
    ipv4: bool,
    ipv6: bool,
    backlog: int,
    socket_options: Iterable[Sequence[Any]],
) -> list[socket.socket]:
    sockets: list[socket.socket] = []
    for family_, socktype, proto, sockaddr in resolve_tcp(host, port, ipv4, ipv6):
        sock = socket.socket(family_, socktype, proto)
        try:
            if os.name != "nt":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family_ == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            for level, option, value in socket_options:
                sock.setsockopt(level, option, value)
            sock.bind(sockaddr)
            sock.listen(backlog)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            for other in sockets:
                other.close()
            raise
        sockets.append(sock)
    return sockets


def _bind_unix(path: str, perms: int, backlog: int) -> socket.socket:
    try:
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        os.chmod(path, perms)
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock
