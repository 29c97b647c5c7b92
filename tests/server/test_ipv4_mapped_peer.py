"""A dual-stack listener reports an IPv4 client as IPv4, not as ``::ffff:a.b.c.d`` (issue 9, 9b)."""

from __future__ import annotations

import socket

import pytest

GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"


def addr_app(environ, start_response):
    body = environ["REMOTE_ADDR"].encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def dual_stack():
    """A listening IPv6 socket that also accepts IPv4 clients."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", 0))
    except OSError as error:
        sock.close()
        pytest.skip(f"no dual-stack socket: {error}")
    sock.listen(16)
    return sock


def ask(port: int, data: bytes = GET) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(data)
        client.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := client.recv(65536):
            reply += chunk
    return reply


def test_an_ipv4_client_on_a_dual_stack_listener_is_remote_addr_ipv4(serve_app, dual_stack):
    with serve_app(addr_app, sockets=[dual_stack]) as server:
        reply = ask(server.port)
    assert reply.endswith(b"\r\n\r\n127.0.0.1")


def test_connections_per_ip_count_one_spelling(serve_app, dual_stack):
    options = {"sockets": [dual_stack], "max_connections_per_ip": 3}
    with serve_app(addr_app, **options) as server:
        held = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        try:
            ask(server.port)  # accepted after the held connection, which is still open
            assert set(server.server.per_ip) == {"127.0.0.1"}
        finally:
            held.close()
