"""The PROXY v2 SSL TLV gives wsgi.url_scheme for every request on its connection (issue 9, 8)."""

from __future__ import annotations

import socket
import struct

import pytest

GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
OPTIONS = {"proxy_protocol": True, "trusted_proxy": "127.0.0.1"}


def v2_tcp4(tlvs: bytes = b"") -> bytes:
    block = socket.inet_aton("198.51.100.7") + socket.inet_aton("127.0.0.1")
    block += struct.pack("!HH", 4000, 80) + tlvs
    return V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", len(block)) + block


def ssl_tlv(client: int) -> bytes:
    value = bytes([client]) + bytes(4)
    return bytes([0x20]) + struct.pack("!H", len(value)) + value


def scheme_app(environ, start_response):
    body = environ["wsgi.url_scheme"].encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def scheme_of(server, preamble: bytes, request: bytes = GET) -> bytes:
    return server.request(preamble + request).body


@pytest.mark.parametrize(
    ("url_scheme", "tlvs", "expected"),
    [
        ("http", ssl_tlv(0x01), b"https"),
        ("http", ssl_tlv(0x00), b"http"),
        ("https", ssl_tlv(0x00), b"http"),  # the TLV is the fact, whatever the default
        ("http", b"", b"http"),  # no TLV: the configured scheme
        ("https", b"", b"https"),
    ],
    ids=["tls", "plain", "plain-over-an-https-default", "no-tlv-http", "no-tlv-https"],
)
def test_the_ssl_tlv_decides_the_scheme(serve_app, url_scheme, tlvs, expected):
    with serve_app(scheme_app, url_scheme=url_scheme, **OPTIONS) as server:
        assert scheme_of(server, v2_tcp4(tlvs)) == expected


def test_every_request_on_the_connection_keeps_it(serve_app):
    with serve_app(scheme_app, **OPTIONS) as server, server.wire() as wire:
        wire.send(v2_tcp4(ssl_tlv(0x01)) + GET)
        assert wire.read_response().body == b"https"
        wire.send(GET)
        assert wire.read_response().body == b"https"


def test_other_connections_keep_the_configured_scheme(serve_app):
    with serve_app(scheme_app, **OPTIONS) as server:
        assert scheme_of(server, v2_tcp4(ssl_tlv(0x01))) == b"https"
        assert scheme_of(server, b"PROXY TCP4 192.0.2.1 127.0.0.1 1 80\r\n") == b"http"


def test_a_forged_forwarded_proto_does_not_override_it(serve_app):
    # A TCP-mode balancer passes the client's X-Forwarded-Proto on: without the opt-in the
    # TLV's "not TLS" stands.
    request = b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: https\r\n\r\n"
    with serve_app(scheme_app, **OPTIONS) as server:
        assert scheme_of(server, v2_tcp4(ssl_tlv(0x00)), request) == b"http"


def test_with_the_opt_in_the_balancer_s_header_has_the_last_word(serve_app):
    request = b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: http\r\n\r\n"
    options = {
        **OPTIONS,
        "proxy_protocol_headers": True,
        "trusted_proxy_headers": "x-forwarded-proto",
    }
    with serve_app(scheme_app, **options) as server:
        assert scheme_of(server, v2_tcp4(ssl_tlv(0x01)), request) == b"http"
