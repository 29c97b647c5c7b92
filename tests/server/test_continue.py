"""``Expect: 100-continue`` (RFC 9110 10.1.1): the event loop sends the interim response and
buffers the body like any other, so a client that never sends its body holds no thread."""

from __future__ import annotations

import threading
import time

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def reading_app(environ, start_response):
    data = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    body = b"got:" + data
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def chunked_reading_app(environ, start_response):
    data = environ["wsgi.input"].read()
    body = b"got:" + data
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def ignoring_app(environ, start_response):
    start_response("403 Forbidden", [("Content-Length", "2")])
    return [b"no"]


HEAD = b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"


def test_interim_response_arrives_before_the_body_is_sent(serve_app):
    with serve_app(reading_app) as server, server.wire() as wire:
        wire.send(HEAD)
        assert wire.read_head()[4] == CONTINUE
        assert wire.buffer == b"", "the final response must wait for the body"
        wire.send(b"hello")
        response = wire.read_response()
        assert response.status == 200
        assert response.body == b"got:hello"
        assert not response.closes
        wire.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert wire.read_response().body == b"got:"


def test_interim_response_for_a_chunked_body(serve_app):
    with serve_app(chunked_reading_app) as server, server.wire() as wire:
        wire.send(
            b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        assert wire.read_head()[4] == CONTINUE
        wire.send(b"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n")
        response = wire.read_response()
        assert response.body == b"got:abcde"


def test_app_that_never_reads_still_gets_the_whole_body_first(serve_app):
    with serve_app(ignoring_app) as server, server.wire() as wire:
        wire.send(HEAD)
        assert wire.read_head()[4] == CONTINUE
        wire.send(b"hello")
        response = wire.read_response()
        assert response.status == 403
        assert response.body == b"no"
        assert not response.closes, "the body was read in full: the connection can be reused"
        wire.send(HEAD)
        assert wire.read_head()[4] == CONTINUE


def test_no_interim_response_when_the_body_came_with_the_head(serve_app):
    with serve_app(reading_app) as server, server.wire() as wire:
        wire.send(HEAD + b"hello")
        response = wire.read_response()
        assert response.status == 200, "RFC 9110 10.1.1: the 100 may be omitted"
        assert response.body == b"got:hello"


def test_http10_expect_gets_no_interim_response(serve_app):
    with serve_app(reading_app) as server, server.wire() as wire:
        wire.send(
            b"POST / HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
        )
        assert wire.nothing_within(0.3), "no 100 Continue to an HTTP/1.0 client"
        wire.send(b"hello")
        response = wire.read_response()
        assert response.status == 200
        assert response.body == b"got:hello"


def test_interim_response_comes_before_the_app_runs(serve_app):
    called = threading.Event()

    def recording_reader(environ, start_response):
        called.set()
        return reading_app(environ, start_response)

    with serve_app(recording_reader) as server, server.wire() as wire:
        wire.send(HEAD)
        assert wire.read_head()[4] == CONTINUE
        assert not called.wait(0.3), "the app runs only once the whole body has arrived"
        wire.send(b"hello")
        assert wire.read_response().body == b"got:hello"
        assert called.is_set()


def test_uploads_that_never_come_hold_no_thread(serve_app):
    """The review's attack: more 100-continue connections than threads, each sending its
    head and then nothing; a plain GET is answered at once."""
    stalled = []
    with serve_app(reading_app, threads=2) as server:
        try:
            for _ in range(6):
                sock = server.connect()
                sock.sendall(
                    b"POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                    b"Content-Length: 100000000\r\n\r\n"
                )
                stalled.append(sock)
            for sock in stalled:
                assert sock.recv(64) == CONTINUE
            started = time.monotonic()
            response = server.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout=3.0)
            assert response.status == 200
            assert time.monotonic() - started < 1.0
        finally:
            for sock in stalled:
                sock.close()


def test_unsupported_expectation_gets_417(serve_app):
    with serve_app(reading_app) as server, server.wire() as wire:
        wire.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: teapot\r\n\r\nhello")
        response = wire.read_response()
        assert response.status == 417
        assert response.closes
