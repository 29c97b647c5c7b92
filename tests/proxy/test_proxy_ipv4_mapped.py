"""IPv4-mapped IPv6 addresses (``::ffff:a.b.c.d``) are the IPv4 address they stand for.

A dual-stack socket, a proxy or a client may spell an IPv4 client either way; bastion
reports and compares the one IPv4 spelling (security review, issue 9, point 9b).
"""

from __future__ import annotations

import ipaddress

import pytest

from bastion.proxy.protocol import V2_SIGNATURE, parse_proxy_header
from bastion.proxy_headers import MalformedProxyHeader, ProxyPolicy, validate_trusted_proxy


def applied(make_environ, headers: str, peer: str = "10.0.0.1", **environ_headers: str):
    policy = ProxyPolicy.from_options(trusted_proxy="10.0.0.1", trusted_proxy_headers=headers)
    environ = make_environ(peer, **environ_headers)
    policy.apply(environ)
    return environ


@pytest.mark.parametrize(
    "value", ['for="[::ffff:1.2.3.4]"', 'for="[::FFFF:1.2.3.4]:4711"', 'for="[::ffff:102:304]"']
)
def test_forwarded_for_a_mapped_address_is_ipv4(value, make_environ):
    environ = applied(make_environ, "forwarded", HTTP_FORWARDED=value)
    assert (environ["REMOTE_ADDR"], environ["REMOTE_HOST"]) == ("1.2.3.4", "1.2.3.4")


@pytest.mark.parametrize(
    ("header", "key", "value"),
    [
        ("x-forwarded-for", "HTTP_X_FORWARDED_FOR", "::ffff:1.2.3.4"),
        ("x-forwarded-for", "HTTP_X_FORWARDED_FOR", "[::ffff:1.2.3.4]:80"),
        ("x-real-ip", "HTTP_X_REAL_IP", "::ffff:1.2.3.4"),
        ("x-client-ip", "HTTP_X_CLIENT_IP", '"[::ffff:1.2.3.4]"'),
    ],
)
def test_address_headers_give_a_mapped_address_as_ipv4(header, key, value, make_environ):
    assert applied(make_environ, header, **{key: value})["REMOTE_ADDR"] == "1.2.3.4"


def test_forwarded_and_x_forwarded_for_agree_on_both_spellings(make_environ):
    # Before: "::ffff:102:304" and "1.2.3.4" differed, and the request was refused as malformed.
    environ = applied(
        make_environ,
        "forwarded x-forwarded-for",
        HTTP_FORWARDED='for="[::ffff:1.2.3.4]"',
        HTTP_X_FORWARDED_FOR="1.2.3.4",
    )
    assert environ["REMOTE_ADDR"] == "1.2.3.4"


def test_a_different_client_still_disagrees(make_environ):
    with pytest.raises(MalformedProxyHeader):
        applied(
            make_environ,
            "forwarded x-forwarded-for",
            HTTP_FORWARDED='for="[::ffff:1.2.3.4]"',
            HTTP_X_FORWARDED_FOR="1.2.3.5",
        )


def test_a_forwarded_host_keeps_its_ipv6_spelling(make_environ):
    # A Host names what the client asked for, not a client address: it is left as written.
    environ = applied(make_environ, "x-forwarded-host", HTTP_X_FORWARDED_HOST="[::ffff:1.2.3.4]")
    assert environ["HTTP_HOST"] == "[::ffff:102:304]"


# -- trusted_proxy entries ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "canonical"),
    [
        ("::ffff:10.0.0.1", "10.0.0.1/32"),
        ("[::ffff:10.0.0.1]", "10.0.0.1/32"),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
        ("::ffff:0:0/96", "0.0.0.0/0"),
        ("::/0", "::/0"),
        ("2001:db8::/32", "2001:db8::/32"),
    ],
)
def test_mapped_trusted_proxy_entries_become_ipv4(entry, canonical):
    assert validate_trusted_proxy(entry) == (canonical,)


@pytest.mark.parametrize("peer", ["10.0.0.1", "::ffff:10.0.0.1"])
def test_a_mapped_trusted_proxy_matches_its_peer_in_either_spelling(peer, make_environ):
    # Before: the entry became ::ffff:a00:1/128 and matched neither spelling of the peer.
    policy = ProxyPolicy.from_options(
        trusted_proxy="::ffff:10.0.0.1", trusted_proxy_headers="x-forwarded-for"
    )
    environ = make_environ(peer, HTTP_X_FORWARDED_FOR="203.0.113.9")
    policy.apply(environ)
    assert environ["REMOTE_ADDR"] == "203.0.113.9"


def test_a_mapped_trusted_network_is_skipped_in_walk_mode(make_environ):
    policy = ProxyPolicy.from_options(
        trusted_proxy="::ffff:10.0.0.0/104",
        trusted_proxy_headers="x-forwarded-for",
        trusted_proxy_mode="walk",
    )
    environ = make_environ("10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.1.2.3")
    policy.apply(environ)
    assert environ["REMOTE_ADDR"] == "203.0.113.9"


# -- the PROXY protocol ---------------------------------------------------------------------------


def test_proxy_v1_tcp6_mapped_source_is_ipv4():
    header = b"PROXY TCP6 ::ffff:1.2.3.4 ::ffff:10.0.0.2 40000 80\r\n"
    _, info = parse_proxy_header(header)
    assert (info.source_addr, info.dest_addr) == ("1.2.3.4", "10.0.0.2")


def test_proxy_v2_tcp6_mapped_source_is_ipv4():
    block = (
        ipaddress.IPv6Address("::ffff:1.2.3.4").packed
        + ipaddress.IPv6Address("2001:db8::2").packed
        + (40000).to_bytes(2, "big")
        + (80).to_bytes(2, "big")
    )
    header = V2_SIGNATURE + bytes([0x21, 0x21]) + len(block).to_bytes(2, "big") + block
    _, info = parse_proxy_header(header)
    assert (info.source_addr, info.source_port, info.dest_addr) == ("1.2.3.4", 40000, "2001:db8::2")
