"""Which listening addresses other hosts can reach: every one but loopback and unix sockets.

Addresses are ``(family, sockaddr)`` pairs, read off bound sockets or, without binding
anything, resolved from the configuration as the server would bind them.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

Address = tuple[int, Any]

_AF_UNIX: Any = getattr(socket, "AF_UNIX", None)  # None on Windows, where unix_socket is refused


def is_loopback(host: str) -> bool:
    """True for a loopback IP address (IPv4-mapped included); False for anything else."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def describe(address: Address) -> str:
    """``'0.0.0.0:8080'``, ``'[::]:8080'`` or ``'unix:/run/app.sock'``."""
    family, sockaddr = address
    if family == _AF_UNIX:
        return f"unix:{sockaddr}"
    host, port = sockaddr[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def reachable(addresses: Iterable[Address]) -> list[str]:
    """The addresses, described, that hosts other than this one can connect to."""
    return [
        describe(address)
        for address in addresses
        if address[0] != _AF_UNIX and not is_loopback(address[1][0])
    ]


def bound_addresses(sockets: Iterable[socket.socket]) -> list[Address]:
    """The addresses of sockets already bound."""
    return [(sock.family, sock.getsockname()) for sock in sockets]


def planned_addresses(config: Any) -> list[Address]:
    """The addresses ``config`` would listen on, resolved but not bound.

    Raises ``ConfigError`` for a listen host that does not resolve, as binding would.
    """
    from .server.listeners import resolve_tcp  # here: the server imports this module

    addresses = bound_addresses(config.sockets or ())
    if config.unix_socket:
        addresses.append((_AF_UNIX, config.unix_socket))
    if not config.sockets and not config.unix_socket:
        for host, port in config.listen:
            for family, _, _, sockaddr in resolve_tcp(host, port, config.ipv4, config.ipv6):
                addresses.append((family, sockaddr))
    return addresses
