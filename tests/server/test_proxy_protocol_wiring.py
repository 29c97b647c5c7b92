"""The proxy_protocol option over real sockets: the preamble sets the client address.

The preamble grammar is unit-tested in tests/proxy/test_proxy_protocol.py; these tests
show who may send one and what the app then sees.
"""

from __future__ import annotations

import socket
import struct

import pytest

from bastion.config import Config
from bastion.errors import ConfigError


def addr_app(environ, start_response):
    body = f"{environ['REMOTE_ADDR']} {environ['REMOTE_PORT']}".encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
# The forwarding headers count behind the preamble only with proxy_protocol_headers.
HEADERS = {"proxy_protocol_headers": True, "trusted_proxy_headers": "x-forwarded-proto"}
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def v2_tcp4(src: str, dst: str, sport: int, dport: int) -> bytes:
    block = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    return V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", len(block)) + block


def test_v1_preamble_from_a_trusted_peer_sets_remote_addr_and_port(serve_app):
    options = {"proxy_protocol": True, "trusted_proxy": "127.0.0.1"}
    with serve_app(addr_app, **options) as server:
        response = server.request(b"PROXY TCP4 198.51.100.20 127.0.0.1 40123 80\r\n" + GET)
    assert response.status == 200
    assert response.body == b"198.51.100.20 40123"


def test_v2_preamble_then_keep_alive_requests_keep_the_address(serve_app):
    options = {"proxy_protocol": True, "trusted_proxy": "127.0.0.0/8"}
    with serve_app(addr_app, **options) as server, server.wire() as wire:
        wire.send(v2_tcp4("203.0.113.5", "127.0.0.1", 5555, 80) + GET)
        assert wire.read_response().body == b"203.0.113.5 5555"
        wire.send(GET)
        assert wire.read_response().body == b"203.0.113.5 5555"


def test_the_preamble_may_arrive_one_byte_at_a_time(serve_app):
    options = {"proxy_protocol": True, "trusted_proxy": "127.0.0.1"}
    data = b"PROXY TCP4 192.0.2.9 127.0.0.1 1000 80\r\n"
    with serve_app(addr_app, **options) as server, server.wire() as wire:
        for byte in data:
            wire.send(bytes([byte]))
        wire.send(GET)
        assert wire.read_response().body == b"192.0.2.9 1000"


def test_a_malformed_preamble_closes_without_a_response(serve_app):
    options = {"proxy_protocol": True, "trusted_proxy": "127.0.0.1"}
    with serve_app(addr_app, **options) as server:
        reply = server.exchange(b"PROXY TCP4 not-an-ip 127.0.0.1 1 80\r\n" + GET)
    assert reply == b""


def test_a_peer_that_is_not_trusted_is_disconnected(serve_app):
    options = {"proxy_protocol": True, "trusted_proxy": "192.0.2.1"}
    with serve_app(addr_app, **options) as server:
        try:
            reply = server.exchange(b"PROXY TCP4 198.51.100.1 127.0.0.1 1 80\r\n" + GET)
        except OSError:  # reset, broken pipe, or not connected by the time of shutdown()
            reply = b""
    assert reply == b""


def test_a_request_without_the_preamble_is_refused(serve_app):
    options = {"proxy_protocol": True, "trusted_proxy": "127.0.0.1"}
    with serve_app(addr_app, **options) as server:
        assert server.exchange(GET) == b""


def test_proxy_protocol_needs_trusted_proxy():
    with pytest.raises(ConfigError, match="proxy_protocol requires trusted_proxy"):
        Config.from_kwargs(proxy_protocol=True)


def proto_app(environ, start_response):
    body = f"{environ['REMOTE_ADDR']} {environ['wsgi.url_scheme']}".encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def test_forwarding_headers_after_a_preamble_are_judged_by_the_proxy_not_the_client(serve_app):
    # HAProxy in HTTP mode with send-proxy-v2 and X-Forwarded-Proto, and the opt-in: the
    # preamble names the client (198.51.100.7, not trusted), while the headers come from the
    # proxy (127.0.0.1, trusted).
    options = {"proxy_protocol": True, "trusted_proxy": "127.0.0.1", **HEADERS}
    request = b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: https\r\n\r\n"
    with serve_app(proto_app, **options) as server:
        response = server.request(v2_tcp4("198.51.100.7", "127.0.0.1", 4000, 80) + request)
    assert response.body == b"198.51.100.7 https"


def test_forwarding_headers_without_a_trusted_header_set_are_still_dropped(serve_app):
    options = {"proxy_protocol": True, "trusted_proxy": "127.0.0.1", **HEADERS}
    request = b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n"

    def seen(environ, start_response):
        body = repr(environ.get("HTTP_X_FORWARDED_FOR")).encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    with serve_app(seen, **options) as server:
        response = server.request(b"PROXY TCP4 198.51.100.7 127.0.0.1 4000 80\r\n" + request)
    assert response.body == b"None"  # x-forwarded-for is not a trusted header here


def test_the_access_log_shows_the_client_from_the_preamble(serve_app, tmp_path):
    target = tmp_path / "access.log"
    options = {"proxy_protocol": True, "trusted_proxy": "127.0.0.1"}
    with serve_app(addr_app, access_log=str(target), **options) as server:
        server.request(b"PROXY TCP4 198.51.100.8 127.0.0.1 4000 80\r\n" + GET)
    assert target.read_text(encoding="utf-8").startswith("198.51.100.8 - - [")
