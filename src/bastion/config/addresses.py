"""Converters for where to listen: host, port, listen addresses, socket options, sockets.

No I/O here except the service-name lookup a non-numeric port needs.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any

from .._word_lists import split_words
from ..http.authority import AuthorityError, check_port, split_authority
from .converters import Converter, check_printable, parse_int, refuse

DEFAULT_PORT = 8080

HOST_ACCEPTS = "a host name or IP address without spaces ('0.0.0.0', '::', '*' for all)"


def _to_host(value: Any) -> str:
    if not isinstance(value, str) or any(ch.isspace() for ch in value.strip()):
        raise refuse(HOST_ACCEPTS, value)
    host = check_printable(value.strip(), HOST_ACCEPTS)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if "[" in host or "]" in host:
        raise refuse(HOST_ACCEPTS, value)
    return host


to_host = Converter("str", HOST_ACCEPTS, _to_host)


# -- addresses -------------------------------------------------------------------------------

PORT_ACCEPTS = "a TCP port number from 0 to 65535 (or a service name such as 'http')"


def _to_port(value: Any) -> int:
    if isinstance(value, str) and value.strip() and not value.strip().isdigit():
        try:
            return socket.getservbyname(value.strip(), "tcp")
        except OSError:
            raise refuse(PORT_ACCEPTS, value) from None
    try:
        # 0 is "any free port"; an operator's "08080" is read as a number, unlike a header's.
        return check_port(parse_int(value, PORT_ACCEPTS), any_port=True)
    except AuthorityError:
        raise refuse(PORT_ACCEPTS, value) from None


to_port = Converter("int", PORT_ACCEPTS, _to_port)

LISTEN_ACCEPTS = (
    "space-separated host:port entries such as '127.0.0.1:8080 [::1]:8080 *:8080' "
    "(a list in TOML; IPv6 addresses in brackets)"
)


def parse_listen_entry(entry: str) -> tuple[str, int]:
    """``'host:port'``, ``'[v6]:port'``, ``'*:port'`` or a bare host (port 8080) to a pair."""
    if entry.count(":") > 1 and not entry.startswith("["):
        raise ValueError(f"IPv6 addresses need brackets, as in '[::1]:8080'; got {entry!r}")
    try:
        host, port_text = split_authority(entry)
    except AuthorityError:
        raise refuse(LISTEN_ACCEPTS, entry) from None
    if host.startswith("["):
        host = host[1:-1]
    if "[" in host or "]" in host:
        raise refuse(LISTEN_ACCEPTS, entry)
    try:
        port = DEFAULT_PORT if port_text is None else _to_port(port_text)
    except ValueError:
        raise refuse(LISTEN_ACCEPTS, entry) from None
    return host, port


def _to_listen(value: Any) -> tuple[tuple[str, int], ...]:
    if isinstance(value, str):
        items: list[Any] = value.split()
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise refuse(LISTEN_ACCEPTS, value)
    pairs: list[tuple[str, int]] = []
    for item in items:
        if isinstance(item, str):
            pairs.extend(parse_listen_entry(part) for part in item.split())
        elif isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str):
            pairs.append((_to_host(item[0]), _to_port(item[1])))
        else:
            raise refuse(LISTEN_ACCEPTS, value)
    if not pairs:
        raise refuse(LISTEN_ACCEPTS, value)
    for host, _ in pairs:
        check_printable(host, LISTEN_ACCEPTS)
    return tuple(pairs)


to_listen = Converter("list", LISTEN_ACCEPTS, _to_listen)


def format_listen(pairs: Iterable[tuple[str, int]]) -> str:
    """The inverse of ``to_listen`` for display: ``'127.0.0.1:8080 [::1]:8080'``."""
    return " ".join(f"[{host}]:{port}" if ":" in host else f"{host}:{port}" for host, port in pairs)


# -- sockets ---------------------------------------------------------------------------------

SOCKET_OPTIONS_ACCEPTS = (
    "a list of (level, option, value) triples; as a string, space-separated "
    "LEVEL:OPTION:VALUE entries using socket module names or numbers, "
    "e.g. 'IPPROTO_TCP:TCP_NODELAY:1'"
)


def _socket_constant(name: str) -> int:
    name = name.strip()
    if name.lstrip("-").isdigit():
        return int(name)
    constant = getattr(socket, name, None)
    if not name.isupper() or not isinstance(constant, int):
        raise ValueError(f"unknown socket constant {name!r}; expected {SOCKET_OPTIONS_ACCEPTS}")
    return int(constant)


def _to_socket_options(value: Any) -> tuple[tuple[int, int, int | bytes], ...]:
    if isinstance(value, str):
        triples: list[Any] = []
        for entry in split_words(value):
            parts = entry.split(":")
            if len(parts) != 3:
                raise refuse(SOCKET_OPTIONS_ACCEPTS, value)
            triples.append([_socket_constant(part) for part in parts])
    elif isinstance(value, list | tuple):
        triples = list(value)
    else:
        raise refuse(SOCKET_OPTIONS_ACCEPTS, value)
    options: list[tuple[int, int, int | bytes]] = []
    for triple in triples:
        if not isinstance(triple, list | tuple) or len(triple) != 3:
            raise refuse(SOCKET_OPTIONS_ACCEPTS, value)
        level, option, setting = triple
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in (level, option)):
            raise refuse(SOCKET_OPTIONS_ACCEPTS, value)
        if isinstance(setting, bool) or not isinstance(setting, int | bytes):
            raise refuse(SOCKET_OPTIONS_ACCEPTS, value)
        options.append((level, option, setting))
    return tuple(options)


to_socket_options = Converter("list", SOCKET_OPTIONS_ACCEPTS, _to_socket_options)

SOCKETS_ACCEPTS = (
    "a list of listening socket.socket objects, all TCP (IPv4/IPv6) or all Unix stream sockets"
)


def _to_sockets(value: Any) -> tuple[socket.socket, ...]:
    if value is None:
        return ()
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise refuse(SOCKETS_ACCEPTS, value)
    sockets = list(value)
    kinds = set()
    for sock in sockets:
        if not isinstance(sock, socket.socket) or sock.type != socket.SOCK_STREAM:
            raise refuse(SOCKETS_ACCEPTS, sock)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            kinds.add("inet")
        elif sock.family == getattr(socket, "AF_UNIX", None):
            kinds.add("unix")
        else:
            raise refuse(SOCKETS_ACCEPTS, sock)
    if len(kinds) > 1:
        raise ValueError("Internet and Unix sockets may not be mixed in sockets")
    return tuple(sockets)


to_sockets = Converter("list", SOCKETS_ACCEPTS, _to_sockets)
