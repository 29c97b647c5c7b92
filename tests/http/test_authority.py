"""bastion.http.authority: the one rule for host[:port] splitting and for ports.

The callers (Host and the request target in the engine, Forwarded and X-Forwarded-*,
trusted hosts, the PROXY protocol, ``listen``) each have tests of their own; here is what
they all share.
"""

from __future__ import annotations

import pytest

from bastion.http.authority import (
    AuthorityError,
    check_port,
    is_authority_form,
    is_host,
    parse_port,
    split_authority,
)


@pytest.mark.parametrize(("text", "port"), [("1", 1), ("80", 80), ("8080", 8080), ("65535", 65535)])
def test_ports(text, port):
    assert parse_port(text) == port


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "port is not a number"),
        ("+80", "port is not a number"),
        ("-1", "port is not a number"),
        (" 80", "port is not a number"),
        ("8o", "port is not a number"),
        ("٨٠", "port is not a number"),  # Arabic-Indic digits: isdigit(), not ASCII
        ("123456", "port is not a number"),
        ("0", "port out of range 1-65535"),
        ("65536", "port out of range 1-65535"),
        ("99999", "port out of range 1-65535"),
        ("080", "port has leading zeros"),
        ("00", "port has leading zeros"),
        ("00080", "port has leading zeros"),
    ],
)
def test_ports_refused(text, reason):
    with pytest.raises(AuthorityError) as info:
        parse_port(text)
    assert str(info.value) == reason


def test_port_zero_only_when_any_port_is_asked_for():
    assert parse_port("0", any_port=True) == 0
    assert check_port(0, any_port=True) == 0
    with pytest.raises(AuthorityError, match="leading zeros"):
        parse_port("00", any_port=True)
    with pytest.raises(AuthorityError, match=r"^port out of range 0-65535$"):
        parse_port("65536", any_port=True)
    with pytest.raises(AuthorityError, match=r"^port out of range 1-65535$"):
        check_port(0)


def test_the_reason_never_holds_the_value():
    secret = "6553" + "7"
    with pytest.raises(AuthorityError) as info:
        parse_port(secret)
    assert secret not in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com", ("example.com", None)),
        ("example.com:8080", ("example.com", "8080")),
        ("example.com:", ("example.com", "")),
        (":80", ("", "80")),
        ("", ("", None)),
        ("10.0.0.1:80", ("10.0.0.1", "80")),
        ("[::1]", ("[::1]", None)),
        ("[::1]:443", ("[::1]", "443")),
        ("[::1]:", ("[::1]", "")),
        ("[v1.x]:1", ("[v1.x]", "1")),
        ("[anything]", ("[anything]", None)),  # the caller checks what is inside
        ("*:8080", ("*", "8080")),
    ],
)
def test_split_authority(text, expected):
    assert split_authority(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[::1", "unterminated IPv6 bracket"),
        ("[::1]x", "garbage after IPv6 address"),
        ("[::1]]:80", "garbage after IPv6 address"),
        ("::1", "IPv6 address without brackets"),
        ("2001:db8::1:80", "IPv6 address without brackets"),
        ("a:b:c", "IPv6 address without brackets"),
        ("a]:80", "bracket in a host name"),
        ("a[b", "bracket in a host name"),
    ],
)
def test_split_authority_refuses(text, reason):
    with pytest.raises(AuthorityError) as info:
        split_authority(text)
    assert str(info.value) == reason


@pytest.mark.parametrize(
    "value",
    [
        "example.com",
        "example.com:1",
        "example.com:65535",
        "EXAMPLE.com",
        "127.0.0.1:8080",
        "[::1]",
        "[::1]:8080",
        "[v1.x]",
        "a%20b",
        "",  # RFC 9112 3.2: a target without an authority sends an empty Host
    ],
)
def test_is_host(value):
    assert is_host(value)


@pytest.mark.parametrize(
    "value",
    [
        "example.com:",
        "example.com:0",
        "example.com:080",
        "example.com:65536",
        "example.com:123456",
        "example.com:80:80",
        "a b",
        "user@example.com",
        "[::1",
        "[::1]x",
        "::1",
        "[::1]:0",
    ],
)
def test_is_host_refuses(value):
    assert not is_host(value)


def test_authority_form_needs_a_valid_port():
    assert is_authority_form("example.com:443")
    assert is_authority_form("[::1]:1")
    assert not is_authority_form("example.com")
    assert not is_authority_form("example.com:")
    assert not is_authority_form("example.com:0443")
    assert not is_authority_form("example.com:70000")
