"""Request limits at their edges: exactly the limit passes, one byte or field more is refused.

How the engine measures (src/bastion/http/limits.py, parser.py, head.py):
- ``max_request_line``: bytes of the request line, its CRLF excluded;
- ``max_request_header_size``: bytes of the whole head, request line through the blank line;
- ``max_request_header_fields``: field lines, Host and repeated names included;
- ``max_request_body_size``: body bytes, as declared or as de-chunked.
Every refusal is a fixed response with ``Connection: close``, then EOF.
"""

from __future__ import annotations

import time

import pytest
from bastion_testing import wait_until

GET_OK = b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class Calls:
    """A WSGI app that records each call and answers with the body length it read."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.errors: list[BaseException] = []

    def __call__(self, environ, start_response):
        self.paths.append(environ["PATH_INFO"])
        try:
            data = environ["wsgi.input"].read()
        except Exception as error:
            self.errors.append(error)
            raise
        body = b"len=%d accept=%s" % (len(data), environ.get("HTTP_ACCEPT", "").encode())
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]


def assert_refused(wire, status: int) -> None:
    """The next response is ``status`` with its fixed body, and the server then closes."""
    response = wire.read_response()
    assert response.status == status
    assert response.closes
    assert response.body.startswith(b"%d " % status)
    assert wire.closed_by_server(), "a refused connection must be closed"


def request_line(length: int) -> bytes:
    """``GET /aaa... HTTP/1.1`` of exactly ``length`` bytes (CRLF not counted)."""
    fixed = len(b"GET / HTTP/1.1")
    return b"GET /" + b"a" * (length - fixed) + b" HTTP/1.1"


def head_of_size(size: int) -> bytes:
    """A complete request head of exactly ``size`` bytes, final CRLF CRLF included."""
    start = b"GET /h HTTP/1.1\r\nHost: x\r\nX-Pad: "
    head = start + b"p" * (size - len(start) - 4) + b"\r\n\r\n"
    assert len(head) == size
    return head


def chunked_head(expect: bool = False) -> bytes:
    return (
        b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        + (b"Expect: 100-continue\r\n" if expect else b"")
        + b"\r\n"
    )


def chunks_totalling(total: int) -> bytes:
    """Chunks (sizes 1, 2, 3, ... then the rest) whose data adds up to ``total`` bytes."""
    out = []
    size = 1
    while total > 0:
        size = min(size, total)
        out.append(b"%x\r\n" % size + b"c" * size + b"\r\n")
        total -= size
        size += 1
    return b"".join(out)


# -- max_request_line (414) ------------------------------------------------------------------


@pytest.mark.parametrize("limit", [16, 64, 1000])
def test_request_line_of_exactly_the_limit_passes_one_more_byte_is_414(serve_app, limit):
    app = Calls()
    with serve_app(app, max_request_line=limit) as server, server.wire() as wire:
        wire.send(request_line(limit) + b"\r\nHost: x\r\n\r\n")
        assert wire.read_response().status == 200  # keep-alive: same connection goes on
        wire.send(request_line(limit + 1) + b"\r\nHost: x\r\n\r\n")
        assert_refused(wire, 414)
    assert len(app.paths) == 1


def test_overlong_request_line_is_refused_before_the_head_is_complete(serve_app):
    limit = 64
    app = Calls()
    with serve_app(app, max_request_line=limit) as server:
        with server.wire() as wire:
            # limit bytes and a CR: the LF may still come, so the server waits.
            wire.send(request_line(limit) + b"\r")
            assert wire.nothing_within(0.3)
            wire.send(b"\nHost: x\r\n\r\n")
            assert wire.read_response().status == 200
        with server.wire() as wire:
            # limit + 1 bytes and no CRLF: that line can no longer fit.
            wire.send(request_line(limit + 1) + b"\r")
            assert_refused(wire, 414)
    assert app.paths == ["/" + "a" * (limit - 14)]


# -- max_request_header_fields (431) --------------------------------------------------------


@pytest.mark.parametrize("name", [b"X-F%d", b"Accept"], ids=["distinct", "repeated"])
def test_header_fields_exactly_the_limit_pass_one_more_is_431(serve_app, name):
    limit = 6

    def head(count: int) -> bytes:  # Host plus count - 1 more fields
        fields = b"".join(
            (name % i if b"%" in name else name) + b": v%d\r\n" % i for i in range(count - 1)
        )
        return b"GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"

    app = Calls()
    with serve_app(app, max_request_header_fields=limit) as server, server.wire() as wire:
        wire.send(head(limit))
        response = wire.read_response()
        assert response.status == 200
        if name == b"Accept":  # repeats count one by one, though the app sees one key
            assert response.body.endswith(b"accept=v0, v1, v2, v3, v4")
        wire.send(head(limit + 1))
        assert_refused(wire, 431)
    assert len(app.paths) == 1


def test_one_header_field_allowed_means_only_host(serve_app):
    app = Calls()
    with serve_app(app, max_request_header_fields=1) as server:
        assert server.request(GET_OK).status == 200
        with server.wire() as wire:
            wire.send(b"GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n")
            assert_refused(wire, 431)
    assert app.paths == ["/ok"]


# -- max_request_header_size (431) ----------------------------------------------------------


@pytest.mark.parametrize("limit", [64, 300, 5000])
def test_head_of_exactly_the_limit_passes_one_more_byte_is_431(serve_app, limit):
    app = Calls()
    with serve_app(app, max_request_header_size=limit) as server, server.wire() as wire:
        wire.send(head_of_size(limit))
        assert wire.read_response().status == 200
        wire.send(head_of_size(limit + 1))
        assert_refused(wire, 431)
    assert app.paths == ["/h"]


def test_oversized_head_is_refused_before_it_is_complete(serve_app):
    limit = 300
    app = Calls()
    with serve_app(app, max_request_header_size=limit) as server:
        with server.wire() as wire:
            head = head_of_size(limit)
            wire.send(head[:-1])  # limit - 1 bytes: the final LF makes it exactly the limit
            assert wire.nothing_within(0.3)
            wire.send(head[-1:])
            assert wire.read_response().status == 200
        with server.wire() as wire:
            wire.send(head_of_size(limit + 1)[:limit])  # limit bytes and still no end
            assert_refused(wire, 431)
    assert app.paths == ["/h"]


def test_header_size_limit_counts_the_request_line(serve_app):
    limit = 200
    app = Calls()
    long_target = b"GET /" + b"t" * 150 + b" HTTP/1.1\r\nHost: x\r\n"
    with serve_app(app, max_request_header_size=limit) as server:
        fits = long_target + b"X-P: " + b"p" * (limit - len(long_target) - 9) + b"\r\n\r\n"
        assert len(fits) == limit
        assert server.request(fits).status == 200
        with server.wire() as wire:
            wire.send(long_target + b"X-P: " + b"p" * (limit - len(long_target) - 8) + b"\r\n\r\n")
            assert_refused(wire, 431)
    assert len(app.paths) == 1


# -- max_request_body_size (413) -------------------------------------------------------------


def length_head(length: int, expect: bool = False) -> bytes:
    return (
        b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % length
        + (b"Expect: 100-continue\r\n" if expect else b"")
        + b"\r\n"
    )


@pytest.mark.parametrize("limit", [0, 1, 1000])
def test_content_length_of_exactly_the_limit_passes(serve_app, limit):
    app = Calls()
    with serve_app(app, max_request_body_size=limit) as server, server.wire() as wire:
        wire.send(length_head(limit) + b"b" * limit)
        response = wire.read_response()
        assert response.status == 200
        assert response.body.startswith(b"len=%d " % limit)
        assert not response.closes


@pytest.mark.parametrize("expect", [False, True], ids=["plain", "100-continue"])
@pytest.mark.parametrize("limit", [0, 1000])
def test_content_length_one_over_is_413_before_the_body_is_sent(serve_app, limit, expect):
    app = Calls()
    with serve_app(app, max_request_body_size=limit) as server, server.wire() as wire:
        wire.send(length_head(limit + 1, expect))  # the head only: no body byte is sent
        head = wire.read_head(timeout=2)
        assert head[1] == 413, "no 100 Continue, no waiting for the body"
        assert b"Connection: close" in head[4]
        assert wire.take(len(b"413 Content Too Large\n")) == b"413 Content Too Large\n"
        assert wire.closed_by_server()
    assert app.paths == [], "the app must not be called"


@pytest.mark.parametrize("limit", [0, 1, 1000])
def test_chunked_body_of_exactly_the_limit_passes(serve_app, limit):
    app = Calls()
    with serve_app(app, max_request_body_size=limit) as server, server.wire() as wire:
        wire.send(chunked_head() + chunks_totalling(limit) + b"0\r\n\r\n")
        response = wire.read_response()
        assert response.status == 200
        assert response.body.startswith(b"len=%d " % limit)
        assert not response.closes
    assert app.paths == ["/up"]


@pytest.mark.parametrize("limit", [0, 1000])
def test_chunked_body_is_413_as_soon_as_its_total_passes_the_limit(serve_app, limit):
    app = Calls()
    with serve_app(app, max_request_body_size=limit) as server, server.wire() as wire:
        wire.send(chunked_head() + chunks_totalling(limit))
        assert wire.nothing_within(0.3), "at the limit the server waits for more"
        wire.send(b"1\r\n")  # one more byte announced; neither it nor the last chunk is sent
        assert_refused(wire, 413)
    assert app.paths == [], "a buffered body over the limit never reaches the app"


def test_streamed_chunked_body_at_the_limit_reaches_the_app(serve_app):
    limit = 1000
    app = Calls()
    with serve_app(app, max_request_body_size=limit) as server, server.wire() as wire:
        wire.send(chunked_head(expect=True))
        assert wire.read_head()[4] == CONTINUE
        wire.send(chunks_totalling(limit) + b"0\r\n\r\n")
        response = wire.read_response()
    assert response.status == 200
    assert response.body.startswith(b"len=1000 ")
    assert app.errors == []


def test_chunked_body_over_the_limit_after_100_continue_is_413_before_the_app(serve_app):
    limit = 1000
    app = Calls()
    with serve_app(app, max_request_body_size=limit) as server, server.wire() as wire:
        wire.send(chunked_head(expect=True))
        assert wire.read_head()[4] == CONTINUE  # sent by the server, before the app runs
        wire.send(chunks_totalling(limit))
        assert wire.nothing_within(0.3)
        wire.send(b"1\r\n")
        assert_refused(wire, 413)
    assert app.paths == []


# -- connection_limit --------------------------------------------------------------------------


def wait_for_connections(server, count: int, timeout: float = 5.0) -> bool:
    """Wait (bounded) until the server holds exactly ``count`` client connections."""
    return wait_until(lambda: len(server.server.connections) == count, timeout)


def test_connection_limit_queues_new_connections_until_one_closes(serve_app):
    app = Calls()
    with serve_app(app, connection_limit=2) as server:
        first, second = server.wire(), server.wire()
        try:
            for wire in (first, second):  # two idle keep-alive connections
                wire.send(GET_OK)
                response = wire.read_response()
                assert response.status == 200
                assert not response.closes
            with server.wire() as third:  # connect() succeeds: it waits in the backlog
                third.send(b"GET /third HTTP/1.1\r\nHost: x\r\n\r\n")
                assert third.nothing_within(0.5), "served beyond connection_limit"
                assert not third.eof, "a waiting connection must not be refused"
                first.close()
                started = time.monotonic()
                response = third.read_response(timeout=3)
                assert response.status == 200
                assert time.monotonic() - started < 2.0
                # Still at the limit (second, third): the second keeps working.
                second.send(GET_OK)
                assert second.read_response().status == 200
        finally:
            first.close()
            second.close()
        assert wait_for_connections(server, 0)
        # Healthy afterwards: up to the limit again, at once.
        with server.wire() as a, server.wire() as b:
            a.send(GET_OK)
            b.send(GET_OK)
            assert a.read_response(timeout=2).status == 200
            assert b.read_response(timeout=2).status == 200
    assert app.paths.count("/third") == 1


# -- max_connections_per_ip (503) --------------------------------------------------------------


def test_connections_per_ip_at_the_limit_pass_one_more_gets_503_and_is_closed(serve_app):
    app = Calls()
    with serve_app(app, max_connections_per_ip=2, retry_after=7) as server:
        first, second = server.wire(), server.wire()
        try:
            for wire in (first, second):
                wire.send(GET_OK)
                assert wire.read_response().status == 200
            with server.wire() as third:  # answered on accept, before it sends anything
                response = third.read_response()
                assert response.status == 503
                assert response.header("retry-after") == "7"
                assert response.body == b"503 Service Unavailable\n"
                assert response.closes
                assert third.closed_by_server()
            first.close()
            assert wait_for_connections(server, 1)
            with server.wire() as again:  # a slot is free again
                again.send(GET_OK)
                assert again.read_response().status == 200
            second.send(GET_OK)
            assert second.read_response().status == 200
        finally:
            first.close()
            second.close()
    assert app.paths == ["/ok"] * 4
