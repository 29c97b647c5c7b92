"""Each waitress / bastion option shown to take effect over a real socket."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time

import pytest
from bastion_testing import wait_until

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
MIB = 1024 * 1024


def ok_app(environ, start_response):
    body = environ["SERVER_SOFTWARE"].encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def read_app(environ, start_response):
    data = environ["wsgi.input"].read()
    body = hashlib.sha256(data).hexdigest().encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


# -- limits -------------------------------------------------------------------


def test_max_request_body_size_declared(serve_app):
    with serve_app(read_app, max_request_body_size=1000) as server:
        ok = server.request(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"a" * 1000
        )
        too_big = server.request(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n" + b"a" * 1001
        )
    assert ok.status == 200
    assert too_big.status == 413
    assert too_big.closes


def test_max_request_body_size_chunked(serve_app):
    def chunked(size):
        return (
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % size
            + b"b" * size
            + b"\r\n0\r\n\r\n"
        )

    with serve_app(read_app, max_request_body_size=1000) as server:
        assert server.request(chunked(1000)).status == 200
        assert server.request(chunked(1001)).status == 413


def test_max_request_body_size_refuses_before_100_continue(serve_app):
    with serve_app(read_app, max_request_body_size=1000) as server, server.wire() as wire:
        wire.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"
        )
        response = wire.read_response()
    assert response.status == 413


def test_max_request_body_size_streamed_chunked_body(serve_app):
    with serve_app(read_app, max_request_body_size=1000) as server, server.wire() as wire:
        wire.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        assert wire.read_response().status == 100
        wire.send(b"7d0\r\n" + b"c" * 2000 + b"\r\n0\r\n\r\n")
        response = wire.read_response()
    assert response.status == 413
    assert response.closes


def test_max_request_header_size(serve_app):
    with serve_app(ok_app, max_request_header_size=2048) as server:
        small = server.request(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 1000 + b"\r\n\r\n")
        big = server.request(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 3000 + b"\r\n\r\n")
    assert small.status == 200
    assert big.status == 431
    assert big.closes


def test_max_request_header_fields(serve_app):
    def head(count):
        fields = b"".join(b"X-F%d: v\r\n" % i for i in range(count))
        return b"GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"

    with serve_app(ok_app, max_request_header_fields=10) as server:
        assert server.request(head(9)).status == 200  # 9 + Host = 10
        assert server.request(head(10)).status == 431


def test_max_request_line(serve_app):
    with serve_app(ok_app, max_request_line=200) as server:
        fits = server.request(b"GET /" + b"a" * 150 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        too_long = server.request(b"GET /" + b"a" * 300 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert fits.status == 200
    assert too_long.status == 414
    assert too_long.closes


# -- timeouts and connection limits ---------------------------------------------


def test_channel_timeout_closes_an_idle_connection(serve_app):
    with serve_app(ok_app, channel_timeout=1) as server, server.wire() as wire:
        wire.send(GET)
        assert wire.read_response().status == 200
        started = time.monotonic()
        assert wire.closed_by_server(timeout=4)
        assert time.monotonic() - started >= 0.9


def test_channel_timeout_closes_a_stalled_head(serve_app):
    with serve_app(ok_app, channel_timeout=1) as server, server.wire() as wire:
        wire.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        wire.read_to_close(timeout=4)
        assert wire.eof
        assert time.monotonic() - started >= 0.9


def test_channel_timeout_closes_a_stalled_body(serve_app):
    with serve_app(read_app, channel_timeout=1) as server, server.wire() as wire:
        wire.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"a" * 10)
        started = time.monotonic()
        wire.read_to_close(timeout=4)
        assert wire.eof
        assert time.monotonic() - started >= 0.9


def test_channel_timeout_closes_a_client_that_stops_reading(serve_app):
    closed = threading.Event()

    class Body:
        def __iter__(self):
            block = b"r" * 65536
            for _ in range(2048):  # 128 MiB: far more than socket buffers hold
                yield block

        def close(self):
            closed.set()

    def app(environ, start_response):
        start_response("200 OK", [])
        return Body()

    with serve_app(app, channel_timeout=1) as server:
        sock = server.slow_reader(32768, timeout=5)
        with sock:
            sock.sendall(GET)
            assert closed.wait(6), "a reader that stopped reading holds a worker forever"
        assert server.wait_no_connections()


def test_channel_timeout_does_not_cut_a_slow_application(serve_app):
    def slow(environ, start_response):
        time.sleep(1.6)  # the slow application under test: longer than channel_timeout
        start_response("200 OK", [("Content-Length", "4")])
        return [b"done"]

    with serve_app(slow, channel_timeout=1) as server:
        response = server.request(GET, timeout=5)
    assert response.body == b"done"


def test_connection_limit_makes_new_connections_wait(serve_app):
    with serve_app(ok_app, connection_limit=1) as server:
        first = server.wire()
        first.send(GET)
        assert first.read_response().status == 200
        with server.wire() as second:  # connect() succeeds: the kernel queues it
            second.send(GET)
            assert second.nothing_within(0.5), "served beyond connection_limit"
            first.close()
            response = second.read_response(timeout=5)
            assert response.status == 200


# -- what the server says about itself ------------------------------------------------


def test_ident_sets_the_server_header(serve_app):
    with serve_app(ok_app, ident="custom/1.0") as server:
        response = server.request(GET)
        error = server.request(b"GET / HTTP/1.1\r\n\r\n")  # no Host: 400
    assert response.header("server") == "custom/1.0"
    assert response.body == b"custom/1.0"  # SERVER_SOFTWARE
    assert error.status == 400
    assert error.header("server") == "custom/1.0"


def test_empty_ident_omits_the_server_header(serve_app):
    with serve_app(ok_app, ident="") as server:
        response = server.request(GET)
        error = server.request(b"GET / HTTP/1.1\r\n\r\n")
    assert response.status == 200
    assert "server" not in response.names()
    assert "server" not in error.names()


def test_app_server_header_is_kept(serve_app):
    def app(environ, start_response):
        start_response("200 OK", [("Server", "mine"), ("Content-Length", "0")])
        return []

    with serve_app(app, ident="custom") as server:
        response = server.request(GET)
    assert [v for n, v in response.headers if n.lower() == "server"] == ["mine"]


def credentials_app(environ, start_response):
    body = repr(
        (environ.get("HTTP_AUTHORIZATION"), environ.get("HTTP_PROXY_AUTHORIZATION"))
    ).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


CREDENTIALS = (
    b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
    b"Proxy-Authorization: Basic YTpi\r\n\r\n"
)


@pytest.mark.parametrize(
    "options, seen",
    [
        ({}, ("Bearer s3cret", "Basic YTpi")),  # waitress passes both
        ({"pass_authorization": True}, ("Bearer s3cret", "Basic YTpi")),
        ({"pass_authorization": "off"}, (None, None)),
    ],
)
def test_pass_authorization(serve_app, options, seen):
    with serve_app(credentials_app, **options) as server:
        response = server.request(CREDENTIALS)
    assert response.status == 200
    assert response.body == repr(seen).encode()


def test_sockets_option_serves_on_a_given_socket(serve_app):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    with serve_app(ok_app, sockets=[sock]) as server:
        assert server.port == port
        assert server.request(GET).status == 200


# -- buffer sizes -----------------------------------------------------------------------


def test_small_send_and_recv_bytes_keep_large_transfers_intact(serve_app):
    data = os.urandom(2 * MIB + 1)

    def echo(environ, start_response):
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body[i : i + 100_000] for i in range(0, len(body), 100_000)]

    options = {"send_bytes": 1000, "recv_bytes": 1000, "outbuf_overflow": 65536}
    with serve_app(echo, **options) as server, server.wire(20) as wire:
        wire.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
        response = wire.read_response(timeout=20)
    assert hashlib.sha256(response.body).digest() == hashlib.sha256(data).digest()


def test_outbuf_high_watermark_bounds_what_a_slow_reader_costs(serve_app):
    chunk = 65536
    total_chunks = 384  # 24 MiB, far more than the bound below
    watermark = 256 * 1024
    produced = [0]
    done = threading.Event()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", str(chunk * total_chunks))])

        def body():
            block = b"w" * chunk
            for _ in range(total_chunks):
                produced[0] += chunk
                yield block
            done.set()

        return body()

    with open("/proc/sys/net/ipv4/tcp_wmem") as f:
        kernel_send_max = int(f.read().split()[2])
    options = {"outbuf_high_watermark": watermark, "outbuf_overflow": 65536}
    with serve_app(app, **options) as server:
        sock = server.slow_reader(32768, timeout=20)
        with sock:
            sock.sendall(GET)
            # Read nothing; wait until the app stops producing: no progress for 0.4 s.
            seen = {"produced": -1, "since": time.monotonic()}

            def stalled() -> bool:
                now = time.monotonic()
                if produced[0] != seen["produced"]:
                    seen.update(produced=produced[0], since=now)
                return now - seen["since"] >= 0.4

            assert wait_until(stalled, 5, interval=0.02), "the app never stopped producing"
            stalled_at = produced[0]
            receive_buffer = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            bound = watermark + kernel_send_max + 2 * receive_buffer + 2 * chunk
            assert not done.is_set(), "the whole body was produced for a reader that reads nothing"
            assert stalled_at <= bound
            # Then the reader catches up and gets every byte.
            received = 0
            for _ in range(100_000):
                data = sock.recv(1 << 20)
                if not data:
                    break
                received += len(data)
                if received >= chunk * total_chunks:
                    break
    assert received >= chunk * total_chunks
    assert done.is_set()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_url_scheme(serve_app, scheme):
    def app(environ, start_response):
        body = environ["wsgi.url_scheme"].encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    with serve_app(app, url_scheme=scheme) as server:
        assert server.request(GET).body == scheme.encode()


def test_url_prefix(serve_app):
    def app(environ, start_response):
        body = f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    with serve_app(app, url_prefix="/mount") as server:
        assert server.request(b"GET /mount/a HTTP/1.1\r\nHost: x\r\n\r\n").body == b"/mount|/a"
