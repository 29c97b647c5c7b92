"""``Expect: 100-continue`` (RFC 9110 10.1.1): the interim response waits for the app to read."""

from __future__ import annotations

import threading

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


def test_app_that_never_reads_gets_no_interim_response(serve_app):
    with serve_app(ignoring_app) as server, server.wire() as wire:
        wire.send(HEAD)
        response = wire.read_response()
        assert response.status == 403, "a final response, not 100 Continue, comes first"
        assert CONTINUE not in response.head
        assert response.body == b"no"


def test_app_that_never_reads_announces_and_does_the_close(serve_app):
    # RFC 9110 10.1.1: a server answering before reading the content SHOULD say
    # whether it will close; the client is still holding the body back, so the
    # connection cannot be reused and must say so.
    with serve_app(ignoring_app) as server, server.wire() as wire:
        wire.send(HEAD)
        response = wire.read_response()
        assert response.status == 403
        assert response.closes
        assert wire.closed_by_server()


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


def test_interim_response_is_sent_when_app_reads_not_before(serve_app):
    may_read = threading.Event()

    def slow_reader(environ, start_response):
        assert may_read.wait(5)
        return reading_app(environ, start_response)

    with serve_app(slow_reader) as server, server.wire() as wire:
        wire.send(HEAD)
        assert wire.nothing_within(0.3), "100 Continue was sent before the app asked for the body"
        may_read.set()
        assert wire.read_head()[4] == CONTINUE
        wire.send(b"hello")
        assert wire.read_response().body == b"got:hello"


def test_unsupported_expectation_gets_417(serve_app):
    with serve_app(reading_app) as server, server.wire() as wire:
        wire.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: teapot\r\n\r\nhello")
        response = wire.read_response()
        assert response.status == 417
        assert response.closes
