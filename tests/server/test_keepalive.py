"""Persistent connections (RFC 9112 9.3) and pipelining (RFC 9112 9.3.2) over real sockets."""

from __future__ import annotations

import fcntl
import hashlib
import socket
import struct
import termios
import threading

from bastion_testing import wait_until


def path_app(environ, start_response):
    body = environ["PATH_INFO"].encode("latin-1")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def unread_bytes(sock: socket.socket) -> int:
    """How many received bytes wait in ``sock``'s receive queue (Linux: SIOCINQ)."""
    return struct.unpack("i", fcntl.ioctl(sock, termios.FIONREAD, b"\0" * 4))[0]


def closing_app(environ, start_response):
    start_response("200 OK", [("Content-Length", "2"), ("Connection", "close")])
    return [b"ok"]


def echo_app(environ, start_response):
    """Answer ``<path>:<sha256 of body>:<body length>``."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data = environ["wsgi.input"].read(length) if length else environ["wsgi.input"].read()
    body = b"%s:%s:%d" % (
        environ["PATH_INFO"].encode("latin-1"),
        hashlib.sha256(data).hexdigest().encode(),
        len(data),
    )
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def test_http11_connection_persists_by_default(serve_app):
    with serve_app(path_app) as server, server.wire() as wire:
        for i in range(3):
            wire.send(b"GET /r%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
            response = wire.read_response()
            assert response.status == 200
            assert response.body == b"/r%d" % i
            assert not response.closes
        assert wire.nothing_within(0.2), "server closed an HTTP/1.1 connection by itself"


def test_http10_without_keep_alive_is_closed_after_the_response(serve_app):
    with serve_app(path_app) as server, server.wire() as wire:
        wire.send(b"GET /old HTTP/1.0\r\n\r\n")
        response = wire.read_response()
        assert response.version == "HTTP/1.1"
        assert response.body == b"/old"
        assert response.closes
        assert wire.closed_by_server()


def test_http10_with_keep_alive_persists(serve_app):
    with serve_app(path_app) as server, server.wire() as wire:
        for i in range(3):
            wire.send(b"GET /k%d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" % i)
            response = wire.read_response()
            assert response.body == b"/k%d" % i
            assert response.header("connection").lower() == "keep-alive"
        assert wire.nothing_within(0.2)


def test_client_connection_close_closes_after_the_response(serve_app):
    with serve_app(path_app) as server, server.wire() as wire:
        wire.send(b"GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        response = wire.read_response()
        assert response.body == b"/bye"
        assert response.closes
        assert wire.closed_by_server()


def test_application_connection_close_closes_after_the_response(serve_app):
    with serve_app(closing_app) as server, server.wire() as wire:
        wire.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        response = wire.read_response()
        assert response.body == b"ok"
        assert response.closes
        assert wire.closed_by_server()


def test_requests_after_connection_close_are_not_answered(serve_app):
    with serve_app(path_app) as server, server.wire() as wire:
        wire.send(
            b"GET /one HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            b"GET /two HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        response = wire.read_response()
        assert response.body == b"/one"
        assert wire.read_to_close() == b""


def test_many_pipelined_gets_are_answered_in_order(serve_app):
    with serve_app(path_app) as server, server.wire() as wire:
        wire.send(b"".join(b"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(20)))
        bodies = [wire.read_response().body for _ in range(20)]
        assert bodies == [b"/p%d" % i for i in range(20)]
        assert wire.nothing_within(0.2)


def test_pipelined_requests_with_bodies_are_answered_in_order(serve_app):
    requests = [
        (b"/a", b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
        (b"/b", b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"),
        (
            b"/c",
            b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
        ),
        (b"/d", b"PUT /d HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n" + b"z" * 3000),
        (b"/e", b"HEAD /e HTTP/1.1\r\nHost: x\r\n\r\n"),
        (b"/f", b"POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
    ]
    expected_bodies = {
        b"/a": b"hello",
        b"/b": b"",
        b"/c": b"abcdefg",
        b"/d": b"z" * 3000,
        b"/f": b"",
    }
    with serve_app(echo_app) as server, server.wire() as wire:
        wire.send(b"".join(raw for _, raw in requests))
        for path, raw in requests:
            method = raw.split(b" ", 1)[0].decode()
            response = wire.read_response(method)
            assert response.status == 200
            if method == "HEAD":
                assert response.body == b""
                continue
            data = expected_bodies[path]
            assert response.body == b"%s:%s:%d" % (
                path,
                hashlib.sha256(data).hexdigest().encode(),
                len(data),
            )
        assert wire.nothing_within(0.2)


def test_pipelined_requests_sent_byte_by_byte(serve_app):
    with serve_app(echo_app) as server, server.wire() as wire:
        data = (
            b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
            b"GET /y HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        for i in range(len(data)):
            wire.send(data[i : i + 1])
        first, second = wire.read_response(), wire.read_response()
        assert first.body.startswith(b"/x:") and first.body.endswith(b":2")
        assert second.body.startswith(b"/y:") and second.body.endswith(b":0")


def test_long_pipeline_while_the_client_reads_slowly(serve_app):
    # The client keeps sending while responses pile up unread: the server must
    # neither deadlock nor drop or reorder anything.
    count = 3000
    sent = threading.Event()
    with serve_app(path_app) as server, server.wire(20) as wire:

        def sender():
            for start in range(0, count, 100):
                wire.send(
                    b"".join(
                        b"GET /%05d HTTP/1.1\r\nHost: x\r\n\r\n" % i
                        for i in range(start, start + 100)
                    )
                )
            sent.set()

        thread = threading.Thread(target=sender, daemon=True)
        thread.start()
        # Read nothing until responses pile up unread (3000 of over 100 bytes each are due).
        assert wait_until(lambda: unread_bytes(wire.sock) >= 32768, 5), "no responses piled up"
        bodies = [wire.read_response(timeout=5).body for _ in range(count)]
        thread.join(20)
    assert sent.is_set()
    assert bodies == [b"/%05d" % i for i in range(count)]


def test_body_sent_without_waiting_for_100_continue(serve_app):
    with serve_app(echo_app) as server, server.wire() as wire:
        wire.send(
            b"POST /eager HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Expect: 100-continue\r\n\r\nhello"
            b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        first = wire.read_response()
        if first.status == 100:  # allowed: the server did not know the body was on its way
            first = wire.read_response()
        second = wire.read_response()
    digest = hashlib.sha256(b"hello").hexdigest().encode()
    assert first.body == b"/eager:%s:5" % digest
    assert second.body.startswith(b"/after:")
