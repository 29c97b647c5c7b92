"""The option parsers: what allowed_hosts, allowed_ports and exempt_paths accept."""

from __future__ import annotations

import pytest

from bastion.trusted_hosts import (
    ALLOWED_HOSTS_ACCEPTS,
    ALLOWED_PORTS_ACCEPTS,
    EXEMPT_PATHS_ACCEPTS,
    HostPolicy,
    TrustedHostMiddleware,
    parse_allowed_hosts,
    parse_allowed_ports,
    parse_exempt_paths,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("example.com", ("example.com",)),
        ("Example.COM", ("example.com",)),
        ("example.com.", ("example.com",)),
        ("*.Example.com.", ("*.example.com",)),
        ("a.com, b.com  c.com,,d.com", ("a.com", "b.com", "c.com", "d.com")),
        (["a.com", " b.com "], ("a.com", "b.com")),
        (("localhost", "127.0.0.1"), ("localhost", "127.0.0.1")),
        ("[::1]", ("[::1]",)),
        ("[0:0:0:0:0:0:0:1]", ("[::1]",)),
        ("[2001:DB8::A]", ("[2001:db8::a]",)),
        ("*", ("*",)),
        ("*.com", ("*.com",)),
        ("a.com A.com a.com.", ("a.com",)),
        ("xn--bcher-kva.example", ("xn--bcher-kva.example",)),
    ],
)
def test_allowed_hosts_accepted(value, expected):
    assert parse_allowed_hosts(value) == expected


def test_allowed_hosts_parse_is_idempotent():
    once = parse_allowed_hosts("Example.com. *.A.example [0::1] 10.0.0.1 *")
    assert parse_allowed_hosts(once) == once


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "no host given"),
        (" , ", "no host given"),
        ([], "no host given"),
        ("*example.com", "'*' may only be a whole first label"),
        ("a.*.com", "'*' may only be a whole first label"),
        ("*.*.example.com", "'*' may only be a whole first label"),
        ("example.*", "'*' may only be a whole first label"),
        (["exa mple.com"], "not a host name or address"),
        ("example.com:80", "ports go in allowed_ports"),
        ("*.example.com:443", "ports go in allowed_ports"),
        ("-example.com", "not a host name or address"),
        ("example-.com", "not a host name or address"),
        ("exa_mple.com", "not a host name or address"),
        ("example..com", "not a host name or address"),
        (".example.com", "not a host name or address"),
        ("*.", "'*' may only be a whole first label"),
        (".", "not a host name or address"),
        ("a" * 64 + ".com", "not a host name or address"),
        (".".join(["a" * 60] * 5), "not a host name or address"),
        ("exämple.com", "not a host name or address"),
        ("1.2.3", "not an IPv4 address"),
        ("256.1.1.1", "not an IPv4 address"),
        ("01.2.3.4", "not an IPv4 address"),
        ("*.10.0.0.1", "a wildcard needs a host name"),
        ("::1", "an IPv6 address needs brackets"),
        ("\u212aey.com", "not a host name or address"),
        ("[::1", "not an IPv6 address in brackets"),
        ("[::g]", "not an IPv6 address in brackets"),
        ("[1.2.3.4]", "not an IPv6 address in brackets"),
        ("[fe80::1%25eth0]", "not an IPv6 address in brackets"),
    ],
)
def test_allowed_hosts_refused_with_what_is_accepted(value, reason):
    with pytest.raises(ValueError) as caught:
        parse_allowed_hosts(value)
    message = str(caught.value)
    assert reason in message
    assert ALLOWED_HOSTS_ACCEPTS in message
    assert "at least one host" in message


@pytest.mark.parametrize("value", [5, b"example.com", [b"example.com"], ["a.com", None]])
def test_allowed_hosts_wrong_types_refused(value):
    with pytest.raises(ValueError, match="expected at least one host pattern"):
        parse_allowed_hosts(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (8080, (8080,)),
        ("80", (80,)),
        ("80, 443 8080", (80, 443, 8080)),
        ([443, "8443"], (443, 8443)),
        ((1, 65535), (1, 65535)),
        ("80 80", (80,)),
    ],
)
def test_allowed_ports_accepted(value, expected):
    assert parse_allowed_ports(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "no port given"),
        ([], "no port given"),
        (0, "not a port"),
        (65536, "not a port"),
        ("-1", "not a port"),
        ("http", "not a port"),
        ("080000", "not a port"),
        ([True], "not a port"),
        (True, "not a port"),
        ([80.5], "got 80.5"),
        ("٨٠", "not a port"),
    ],
)
def test_allowed_ports_refused_with_what_is_accepted(value, reason):
    with pytest.raises(ValueError) as caught:
        parse_allowed_ports(value)
    assert reason in str(caught.value)
    assert ALLOWED_PORTS_ACCEPTS in str(caught.value)


def test_allowed_ports_wrong_type_refused():
    with pytest.raises(ValueError, match="port number from 1 to 65535"):
        parse_allowed_ports(80.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ()),
        ((), ()),
        ("", ()),
        ("/health", ("/health",)),
        ("/health, /.well-known/*", ("/health", "/.well-known/*")),
        (["/", "/*"], ("/", "/*")),
    ],
)
def test_exempt_paths_accepted(value, expected):
    assert parse_exempt_paths(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("health", "not a path starting with '/'"),
        (["/he alth"], "not a path starting with '/'"),
        (["/hea\x00lth"], "not a path starting with '/'"),
        ("/a*", "'*' may only end a path"),
        ("/a/*/b", "'*' may only end a path"),
        ("/a/**", "'*' may only end a path"),
    ],
)
def test_exempt_paths_refused_with_what_is_accepted(value, reason):
    with pytest.raises(ValueError) as caught:
        parse_exempt_paths(value)
    assert reason in str(caught.value)
    assert EXEMPT_PATHS_ACCEPTS in str(caught.value)


def test_exempt_paths_wrong_type_refused():
    with pytest.raises(ValueError, match="paths starting with '/'"):
        parse_exempt_paths(7)


def test_www_redirect_flag_refused_with_what_is_accepted():
    with pytest.raises(ValueError, match=r"www_redirect: expected a boolean \(true/false"):
        HostPolicy("example.com", www_redirect="maybe")


def test_constructors_take_strings():
    policy = HostPolicy("Example.com, *.api.example", "80 8080", "off", "/health /static/*")
    assert policy.allowed_hosts == ("example.com", "*.api.example")
    assert policy.allowed_ports == (80, 8080)
    assert policy.www_redirect is False
    assert policy.exempt_paths == ("/health", "/static/*")
    middleware = TrustedHostMiddleware(lambda e, s: [], "example.com", www_redirect="yes")
    assert middleware.policy.allowed_hosts == ("example.com",)
    assert middleware.policy.www_redirect is True


def test_middleware_refuses_bad_options_at_construction():
    with pytest.raises(ValueError, match="no host given"):
        TrustedHostMiddleware(lambda e, s: [], "")
