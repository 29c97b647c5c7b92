"""bastion.exposure: which listening addresses other hosts can reach, bound or only planned."""

from __future__ import annotations

import socket

import pytest
from bastion_testing import free_port

from bastion.config import Config
from bastion.errors import ConfigError
from bastion.exposure import (
    bound_addresses,
    describe,
    is_loopback,
    planned_addresses,
    reachable,
)
from bastion.server.listeners import resolve_tcp


@pytest.mark.parametrize(
    "host, expected",
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("192.168.1.10", False),
        ("203.0.113.7", False),
        ("fe80::1%eth0", False),
        ("localhost", False),  # a name, not an address: callers resolve names first
    ],
)
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


def test_reachable_keeps_all_but_loopback_and_unix_sockets_and_describes_them():
    addresses = [
        (socket.AF_INET, ("127.0.0.1", 8080)),
        (socket.AF_INET6, ("::1", 8080, 0, 0)),
        (socket.AF_UNIX, "/run/app.sock"),
        (socket.AF_INET, ("0.0.0.0", 8080)),
        (socket.AF_INET6, ("::", 8081, 0, 0)),
        (socket.AF_INET, ("10.1.2.3", 80)),
    ]
    assert reachable(addresses) == ["0.0.0.0:8080", "[::]:8081", "10.1.2.3:80"]
    assert describe((socket.AF_UNIX, "/run/app.sock")) == "unix:/run/app.sock"


def test_planned_addresses_resolve_listen_without_binding():
    port = free_port()
    config = Config.from_kwargs(listen=f"127.0.0.1:{port} 0.0.0.0:8081 [::1]:8082")
    addresses = planned_addresses(config)
    assert addresses == [
        (socket.AF_INET, ("127.0.0.1", port)),
        (socket.AF_INET, ("0.0.0.0", 8081)),
        (socket.AF_INET6, ("::1", 8082, 0, 0)),
    ]
    assert reachable(addresses) == ["0.0.0.0:8081"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # nothing was bound there


def test_planned_wildcard_listen_is_reachable_and_localhost_is_not():
    assert reachable(planned_addresses(Config.from_kwargs(listen="*:8080"))) != []
    assert reachable(planned_addresses(Config.from_kwargs(host="localhost", port=8080))) == []
    only_v4 = Config.from_kwargs(listen="*:8080", ipv6=False)
    assert reachable(planned_addresses(only_v4)) == ["0.0.0.0:8080"]


def test_planned_unix_socket_is_local(tmp_path):
    config = Config.from_kwargs(unix_socket=str(tmp_path / "s.sock"))
    assert planned_addresses(config) == [(socket.AF_UNIX, str(tmp_path / "s.sock"))]
    assert reachable(planned_addresses(config)) == []
    assert not (tmp_path / "s.sock").exists()


def test_sockets_given_are_read_as_bound():
    with socket.socket() as local, socket.socket() as wild:
        local.bind(("127.0.0.1", 0))
        wild.bind(("0.0.0.0", 0))
        port = wild.getsockname()[1]
        assert reachable(bound_addresses([local, wild])) == [f"0.0.0.0:{port}"]
        config = Config.from_kwargs(sockets=[local, wild])
        assert reachable(planned_addresses(config)) == [f"0.0.0.0:{port}"]


def test_a_listen_name_that_does_not_resolve_is_a_config_error():
    with pytest.raises(ConfigError, match=r"cannot resolve listen address 'no-such-host\.invalid'"):
        planned_addresses(Config.from_kwargs(listen="no-such-host.invalid:80"))


def test_resolve_tcp_gives_each_address_once():
    resolved = resolve_tcp("127.0.0.1", 8080, True, True)
    assert [(family, sockaddr) for family, _, _, sockaddr in resolved] == [
        (socket.AF_INET, ("127.0.0.1", 8080))
    ]
