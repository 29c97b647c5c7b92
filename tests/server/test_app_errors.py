"""Applications that fail or break PEP 3333, and the start_response / write() rules."""

from __future__ import annotations

import sys

import pytest

FIXED_500 = b"500 Internal Server Error\n"
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


class Boom(Exception):
    pass


def ok_app(environ, start_response):
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


class Body:
    """An app iterable that records close() and can fail after some items."""

    def __init__(self, items, fail_after=None):
        self.items = list(items)
        self.fail_after = fail_after
        self.closed = 0

    def __iter__(self):
        for index, item in enumerate(self.items):
            if index == self.fail_after:
                raise Boom("secret-detail-in-exception")
            yield item
        if self.fail_after == len(self.items):
            raise Boom("secret-detail-in-exception")

    def close(self):
        self.closed += 1


def assert_still_serving(server):
    """The server answers a new connection (apps under test serve /ok normally)."""
    response = server.request(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response.status == 200
    assert response.body == b"ok"


def test_exception_before_start_response_is_a_fixed_500(serve_app):
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/ok":
            return ok_app(environ, start_response)
        raise Boom("secret-detail-in-exception")

    with serve_app(app) as server:
        with server.wire() as wire:
            wire.send(GET)
            response = wire.read_response()
            assert response.status == 500
            assert response.body == FIXED_500
            assert response.header("content-type").startswith("text/plain")
            assert response.closes
            assert wire.closed_by_server()
        assert_still_serving(server)


def test_exception_detail_only_with_expose_tracebacks(serve_app):
    def app(environ, start_response):
        raise Boom("secret-detail-in-exception")

    with serve_app(app) as server:
        hidden = server.request(GET)
    with serve_app(app, expose_tracebacks=True) as server:
        shown = server.request(GET)
    assert b"secret-detail-in-exception" not in hidden.body
    assert b"Traceback" not in hidden.body
    assert shown.status == 500
    assert shown.body.startswith(FIXED_500)
    assert b"Traceback" in shown.body
    assert b"secret-detail-in-exception" in shown.body


def test_exception_after_start_response_before_any_body_is_a_500(serve_app):
    body = Body([b"never"], fail_after=0)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "5")])
        return body

    with serve_app(app) as server:
        response = server.request(GET)
    assert response.status == 500
    assert response.body == FIXED_500
    assert body.closed == 1


@pytest.mark.parametrize("with_length", [True, False], ids=["length", "chunked"])
def test_exception_after_headers_were_sent_closes_the_connection(serve_app, with_length):
    body = Body([b"part-one;", b"part-two;"], fail_after=2)

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/ok":
            return ok_app(environ, start_response)
        start_response("200 OK", [("Content-Length", "100")] if with_length else [])
        return body

    with serve_app(app) as server:
        with server.wire() as wire:
            wire.send(GET)
            _, status, _, _, _ = wire.read_head()
            rest = wire.read_to_close()
            assert status == 200
            assert b"part-two;" in rest
            assert not rest.endswith(b"0\r\n\r\n"), "a failed body must not look complete"
            assert b"500" not in rest
        assert body.closed == 1
        assert_still_serving(server)


@pytest.mark.parametrize(
    "result",
    [
        ["text, not bytes"],
        "a str is iterable too",
        [b"ok", "then text"],
        [1],
        None,
    ],
    ids=["list-of-str", "str", "bytes-then-str", "int", "none"],
)
def test_non_bytes_body_is_a_500_never_a_hang(serve_app, result):
    def app(environ, start_response):
        start_response("200 OK", [])
        return result

    with serve_app(app) as server, server.wire(timeout=3) as wire:
        wire.send(GET)
        _, status, _, _, _ = wire.read_head()
        if status == 200:  # headers already went out with the first item: close
            wire.read_to_close(3)  # raises TimeoutError if the server hangs instead
            assert wire.eof
        else:
            assert status == 500


def test_str_after_bytes_closes_the_connection(serve_app):
    body = Body([b"fine;", "broken"])

    def app(environ, start_response):
        start_response("200 OK", [])
        return body

    with serve_app(app) as server, server.wire(timeout=3) as wire:
        wire.send(GET)
        _, status, _, _, _ = wire.read_head()
        rest = wire.read_to_close(3)
    assert status == 200
    assert b"fine;" in rest
    assert not rest.endswith(b"0\r\n\r\n")
    assert body.closed == 1


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_close_is_called_once_on_success(serve_app, method):
    bodies = []

    def app(environ, start_response):
        start_response("200 OK", [])
        body = Body([b"a", b"b"])
        bodies.append(body)
        return body

    with serve_app(app) as server:
        response = server.request(b"%s / HTTP/1.1\r\nHost: x\r\n\r\n" % method.encode(), method)
        server.wait_no_connections()
    assert response.status == 200
    assert response.body == (b"ab" if method == "GET" else b"")
    assert [b.closed for b in bodies] == [1]


def test_second_start_response_without_exc_info_is_an_error(serve_app):
    raised = []

    def app(environ, start_response):
        start_response("200 OK", [])
        try:
            start_response("201 Created", [])
        except Exception as error:
            raised.append(error)
            raise
        return [b"unreachable"]

    with serve_app(app) as server:
        response = server.request(GET)
    assert len(raised) == 1
    assert response.status == 500


def test_exc_info_before_headers_replaces_the_response(serve_app):
    def app(environ, start_response):
        start_response("200 OK", [("X-First", "yes")])
        try:
            raise Boom("handled")
        except Boom:
            start_response("503 Service Unavailable", [("Content-Length", "4")], sys.exc_info())
        return [b"down"]

    with serve_app(app) as server:
        response = server.request(GET)
    assert response.status == 503
    assert response.header("x-first") is None
    assert response.body == b"down"


def test_exc_info_from_a_generator_before_its_first_item(serve_app):
    def app(environ, start_response):
        def body():
            start_response("200 OK", [])
            try:
                raise Boom("late")
            except Boom:
                start_response("502 Bad Gateway", [("Content-Length", "3")], sys.exc_info())
            yield b"bad"

        return body()

    with serve_app(app) as server:
        response = server.request(GET)
    assert response.status == 502
    assert response.body == b"bad"


def test_exc_info_after_headers_were_sent_reraises(serve_app):
    seen = []

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/ok":
            return ok_app(environ, start_response)
        write = start_response("200 OK", [])
        write(b"already sent;")
        try:
            raise Boom("original")
        except Boom:
            try:
                start_response("500 Oops", [], sys.exc_info())
            except BaseException as error:
                seen.append(error)
                raise
        return []

    with serve_app(app) as server:
        with server.wire() as wire:
            wire.send(GET)
            _, status, _, _, _ = wire.read_head()
            rest = wire.read_to_close()
        assert_still_serving(server)
    assert status == 200
    assert b"already sent;" in rest
    assert len(seen) == 1
    assert isinstance(seen[0], Boom)
    assert str(seen[0]) == "original"


def test_write_callable_sends_body_pieces(serve_app):
    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"one;")
        write(b"")
        write(b"two;")
        return [b"three"]

    with serve_app(app) as server, server.wire() as wire:
        wire.send(GET)
        response = wire.read_response()
        assert response.body == b"one;two;three"
        assert response.header("transfer-encoding") == "chunked"
        wire.send(GET)
        assert wire.read_response().body == b"one;two;three"


def test_write_callable_with_content_length(serve_app):
    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Length", "6")])
        write(b"abc")
        write(b"def")
        return []

    with serve_app(app) as server, server.wire() as wire:
        wire.send(GET)
        response = wire.read_response()
        assert response.body == b"abcdef"
        assert not response.closes
        wire.send(GET)
        assert wire.read_response().body == b"abcdef"


def test_write_callable_refuses_str(serve_app):
    errors = []

    def app(environ, start_response):
        write = start_response("200 OK", [])
        try:
            write("text")
        except Exception as error:
            errors.append(error)
            raise
        return []

    with serve_app(app) as server:
        response = server.request(GET)
    assert len(errors) == 1
    assert response.status == 500


@pytest.mark.parametrize(
    "status, headers",
    [
        ("200 OK", [("X-Injected", "a\r\nSet-Cookie: evil=1")]),
        ("200 OK", [("Bad Name", "v")]),
        ("200 OK", [("Transfer-Encoding", "chunked")]),
        ("200 OK", [("Upgrade", "h2c")]),
        ("200 OK\r\nSet-Cookie: evil=1", []),
        ("OK", []),
        ("200 OK", [("X-Number", 5)]),
    ],
    ids=["crlf-value", "space-name", "te", "upgrade", "crlf-status", "no-code", "int-value"],
)
def test_unsafe_status_or_headers_from_the_app_are_a_500(serve_app, status, headers):
    def app(environ, start_response):
        start_response(status, headers)
        return [b"body"]

    with serve_app(app) as server:
        response = server.request(GET)
    assert response.status == 500
    assert b"evil" not in response.head
    assert response.body == FIXED_500


def test_fewer_bytes_than_content_length_closes(serve_app):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "10")])
        return [b"abc", b"de"]

    with serve_app(app) as server, server.wire() as wire:
        wire.send(GET)
        wire.read_head()
        assert wire.read_to_close() == b"abcde"


def test_more_bytes_than_content_length_are_cut(serve_app):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "3")])
        return [b"abc", b"SMUGGLED"]

    with serve_app(app) as server, server.wire() as wire:
        wire.send(GET)
        response = wire.read_response()
        assert response.body == b"abc"
        assert wire.read_to_close() == b""
