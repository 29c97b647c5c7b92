"""What the server gives away: fixed error texts, the Server header, httpoxy, tracebacks,
response splitting, and logging of application errors."""

from __future__ import annotations

import logging
import threading

import pytest

MARK = b"Zq7MARKx9"
FIXED = {
    400: b"400 Bad Request\n",
    408: b"408 Request Timeout\n",
    413: b"413 Content Too Large\n",
    414: b"414 URI Too Long\n",
    431: b"431 Request Header Fields Too Large\n",
    500: b"500 Internal Server Error\n",
    501: b"501 Not Implemented\n",
    503: b"503 Service Unavailable\n",
    505: b"505 HTTP Version Not Supported\n",
}
GET_OK = b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"


def ok_app(environ, start_response):
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


def reading_app(environ, start_response):
    environ["wsgi.input"].read()
    return ok_app(environ, start_response)


def echoing_crash_app(environ, start_response):
    """Fails with an exception whose message carries the request's target, header and body."""
    if environ["PATH_INFO"] == "/ok":
        return ok_app(environ, start_response)
    body = environ["wsgi.input"].read()
    raise RuntimeError(
        f"crash on {environ['PATH_INFO']}?{environ['QUERY_STRING']} "
        f"{environ.get('HTTP_X_NOTE')} {body!r}"
    )


def marked(method: bytes = b"POST", version: bytes = b"HTTP/1.1", host: bool = True) -> bytes:
    """A request head with the marker in the target, a header name and a header value."""
    host_line = b"Host: x\r\n" if host else b""
    return b"%s /%s?q=%s %s\r\n%sX-%s: v\r\nX-Note: %s\r\n" % (
        method,
        MARK,
        MARK,
        version,
        host_line,
        MARK,
        MARK,
    )


def with_body(head: bytes) -> bytes:
    body = b"body-" + MARK
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def assert_fixed_and_silent(data: bytes, status: int) -> None:
    """``data`` (everything read until close) is one fixed ``status`` response."""
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep, f"no complete response: {data[:200]!r}"
    assert head.startswith(b"HTTP/1.1 %d " % status), head[:100]
    assert body == FIXED[status]
    assert b"\r\nConnection: close" in head
    assert b"\r\nContent-Type: text/plain; charset=utf-8" in head
    assert MARK not in data
    assert MARK.lower() not in data.lower()


# Each case: (status, options, raw request carrying the marker in every part it has).
CASES = {
    "400-no-host": (400, {}, with_body(marked(host=False))),
    "400-no-colon": (400, {}, with_body(marked() + b"Bad-Line-" + MARK + b"\r\n")),
    "400-bad-length": (400, {}, marked() + b"Content-Length: 4" + MARK + b"\r\n\r\nbody"),
    "400-bad-chunk": (
        400,
        {},
        marked() + b"Transfer-Encoding: chunked\r\n\r\n9\r\n" + MARK + b"\r\nzz" + MARK + b"\r\n",
    ),
    "400-proxy-header": (
        400,
        {"trusted_proxy": "127.0.0.1", "trusted_proxy_headers": "x-forwarded-proto"},
        with_body(marked() + b"X-Forwarded-Proto: " + MARK + b"\r\n"),
    ),
    "413-length": (
        413,
        {"max_request_body_size": 8},
        with_body(marked()),
    ),
    "413-chunked": (
        413,
        {"max_request_body_size": 12},
        marked() + b"Transfer-Encoding: chunked\r\n\r\n9\r\n" + MARK + b"\r\n4\r\nMARK\r\n",
    ),
    "414": (414, {"max_request_line": 30}, with_body(marked() + b"X-Pad: " + MARK * 10 + b"\r\n")),
    "431-size": (
        431,
        {"max_request_header_size": 256},
        with_body(marked() + b"X-" + MARK + b"-2: " + MARK * 30 + b"\r\n"),
    ),
    "431-fields": (
        431,
        {"max_request_header_fields": 4},
        with_body(marked() + b"".join(b"X-%d-%s: %s\r\n" % (i, MARK, MARK) for i in range(3))),
    ),
    "500": (500, {}, with_body(marked())),
    "501": (
        501,
        {},
        marked() + b"Transfer-Encoding: x-%s, chunked\r\n\r\n9\r\n%s\r\n0\r\n\r\n" % (MARK, MARK),
    ),
    "505": (505, {}, with_body(marked(version=b"HTTP/1.2"))),
}


@pytest.mark.parametrize(("status", "options", "raw"), CASES.values(), ids=CASES.keys())
def test_error_response_never_contains_request_bytes(serve_app, caplog, status, options, raw):
    assert MARK in raw
    with (
        caplog.at_level(logging.DEBUG),
        serve_app(echoing_crash_app, **options) as server,
        server.wire() as wire,
    ):
        wire.send(raw)
        data = wire.read_to_close()
    assert_fixed_and_silent(data, status)
    if status != 500:  # the app's own exception message is logged for the operator
        assert MARK.decode() not in caplog.text, "request bytes must not reach the log either"


def test_408_for_a_slow_head_echoes_nothing(serve_app):
    options = {"header_timeout": 0.3, "header_min_rate": 0}
    with serve_app(ok_app, **options) as server, server.wire() as wire:
        wire.send(marked(method=b"GET"))  # no blank line: the head never completes
        data = wire.read_to_close(timeout=4)
    assert_fixed_and_silent(data, 408)


def test_408_for_a_slow_body_echoes_nothing(serve_app):
    calls = []

    def app(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return reading_app(environ, start_response)

    options = {"body_timeout": 0.3, "body_min_rate": 0}
    with serve_app(app, **options) as server, server.wire() as wire:
        wire.send(marked() + b"Content-Length: 100\r\n\r\n" + MARK)
        data = wire.read_to_close(timeout=4)
    assert_fixed_and_silent(data, 408)
    assert calls == []


def test_503_when_shedding_load_echoes_nothing(serve_app):
    started, release = threading.Event(), threading.Event()

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/block":
            started.set()
            release.wait(5)
        return reading_app(environ, start_response)

    with serve_app(app, threads=1, max_queued_requests=1, retry_after=3) as server:
        busy, queued = server.wire(), server.wire()
        try:
            busy.send(b"GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
            assert started.wait(5)
            queued.send(GET_OK)  # waits in the queue: one request may
            assert queued.nothing_within(0.2)
            with server.wire() as shed:
                shed.send(with_body(marked()))
                data = shed.read_to_close()
            release.set()
            assert busy.read_response().status == 200
            assert queued.read_response().status == 200
        finally:
            release.set()
            busy.close()
            queued.close()
    assert_fixed_and_silent(data, 503)
    assert b"\r\nRetry-After: 3\r\n" in data


# -- the Server header (ident) -------------------------------------------------------------


def crash_app(environ, start_response):
    if environ["PATH_INFO"] == "/crash":
        raise RuntimeError("boom")
    body = environ["SERVER_SOFTWARE"].encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


# Requests for: the app's 200, the app's crash (500), and the engine's 400, 413, 414, 431.
IDENT_REQUESTS = [
    (200, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    (500, b"GET /crash HTTP/1.1\r\nHost: x\r\n\r\n"),
    (400, b"GET / HTTP/1.1\r\n\r\n"),
    (413, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n"),
    (414, b"GET /" + b"u" * 80 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
    (431, b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"),
]
IDENT_LIMITS = {"max_request_body_size": 10, "max_request_line": 64, "max_request_header_fields": 4}


def test_default_server_header_is_the_bare_name_without_a_version(serve_app):
    with serve_app(crash_app, **IDENT_LIMITS) as server:
        responses = [(status, server.request(raw)) for status, raw in IDENT_REQUESTS]
    for status, response in responses:
        assert response.status == status
        assert [v for n, v in response.headers if n.lower() == "server"] == ["bastion"]
    assert responses[0][1].body == b"bastion"  # SERVER_SOFTWARE


def test_custom_ident_is_sent_on_every_response(serve_app):
    with serve_app(crash_app, ident="edge", **IDENT_LIMITS) as server:
        responses = [(status, server.request(raw)) for status, raw in IDENT_REQUESTS]
    for status, response in responses:
        assert response.status == status
        assert response.header("server") == "edge"


def test_empty_ident_sends_no_server_header_on_any_response(serve_app):
    with serve_app(crash_app, ident="", **IDENT_LIMITS) as server:
        responses = [(status, server.request(raw)) for status, raw in IDENT_REQUESTS]
    with (
        serve_app(crash_app, ident="", max_connections_per_ip=1) as server,
        server.wire() as held,
        server.wire() as refused,
    ):
        held.send(GET_OK)
        assert held.read_response().status == 200
        responses.append((503, refused.read_response()))
    for status, response in responses:
        assert response.status == status
        assert b"\r\nserver:" not in response.head.lower()
    assert responses[0][1].body == b""


# -- httpoxy ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"trusted_proxy": "127.0.0.1", "trusted_proxy_headers": "x-forwarded-for"}],
    ids=["direct", "behind-trusted-proxy"],
)
def test_proxy_header_in_any_case_never_becomes_http_proxy(serve_app, options):
    seen = []

    def app(environ, start_response):
        seen.append(dict(environ))
        return ok_app(environ, start_response)

    raw = (
        b"GET / HTTP/1.1\r\nHost: x\r\n"
        b"Proxy: http://" + MARK + b".evil:1/\r\n"
        b"PROXY: http://" + MARK + b".evil:2/\r\n"
        b"proxy: http://" + MARK + b".evil:3/\r\n"
        b"Proxy-Authorization: Basic abc\r\n"
        b"X-Proxy: kept\r\n"
        b"Proxy-Note: kept too\r\n\r\n"
    )
    with serve_app(app, **options) as server:
        assert server.request(raw).status == 200
    (env,) = seen
    assert "HTTP_PROXY" not in env
    assert not [key for key, value in env.items() if MARK.decode() in str(value)]
    assert env["HTTP_PROXY_AUTHORIZATION"] == "Basic abc"
    assert env["HTTP_X_PROXY"] == "kept"
    assert env["HTTP_PROXY_NOTE"] == "kept too"
    assert env["HTTP_HOST"] == "x"


# -- expose_tracebacks ------------------------------------------------------------------------


def test_expose_tracebacks_off_by_default_hides_traceback_and_message(serve_app, caplog):
    with (
        caplog.at_level(logging.WARNING, logger="bastion.server"),
        serve_app(echoing_crash_app) as server,
        server.wire() as wire,
    ):
        wire.send(with_body(marked()))
        data = wire.read_to_close()
    assert_fixed_and_silent(data, 500)
    for text in (b"Traceback", b"RuntimeError", b"crash on", b'File "'):
        assert text not in data
    assert "expose_tracebacks" not in caplog.text


def test_expose_tracebacks_on_shows_them_and_warns_at_start(serve_app, caplog):
    with (
        caplog.at_level(logging.WARNING, logger="bastion.server"),
        serve_app(echoing_crash_app, expose_tracebacks=True) as server,
    ):
        response = server.request(with_body(marked()))
    assert response.status == 500
    assert response.body.startswith(FIXED[500])
    assert b"Traceback (most recent call last)" in response.body
    assert b"RuntimeError: crash on /" + MARK in response.body
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and "expose_tracebacks" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert warnings[0].name == "bastion.server"


# -- CR, LF and NUL in the app's response head -----------------------------------------------

SPLITS = {
    "cr-value": ("200 OK", [("X-Bad", "v\rSet-Cookie: " + MARK.decode())]),
    "lf-value": ("200 OK", [("X-Bad", "v\nSet-Cookie: " + MARK.decode())]),
    "crlf-value": ("200 OK", [("X-Bad", "v\r\n\r\n<h1>" + MARK.decode())]),
    "nul-value": ("200 OK", [("X-Bad", MARK.decode() + "\x00")]),
    "cr-name": ("200 OK", [("X-Bad\rSet-Cookie", MARK.decode())]),
    "lf-name": ("200 OK", [("X-Bad\nSet-Cookie", MARK.decode())]),
    "nul-name": ("200 OK", [("X-Bad\x00", MARK.decode())]),
    "crlf-status": ("200 OK\r\nSet-Cookie: " + MARK.decode(), []),
    "nul-status": ("200 OK\x00" + MARK.decode(), []),
    "lf-second": (
        "200 OK",
        [("X-Fine", "fine-" + MARK.decode()), ("Set-Cookie", "a=1\nX-Evil: " + MARK.decode())],
    ),
}


@pytest.mark.parametrize(("status", "headers"), SPLITS.values(), ids=SPLITS.keys())
def test_control_characters_in_the_response_head_give_a_500_never_a_split(
    serve_app, status, headers
):
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/ok":
            return ok_app(environ, start_response)
        start_response(status, headers)
        return [b"body-" + MARK]

    with serve_app(app, threads=1) as server:
        with server.wire() as wire:
            wire.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            data = wire.read_to_close()
        assert_fixed_and_silent(data, 500)
        assert data.count(b"HTTP/1.1 ") == 1
        assert b"Set-Cookie" not in data
        assert b"X-Fine" not in data
        # The next connection is served normally.
        response = server.request(GET_OK)
        assert response.status == 200
        assert response.body == b"ok"


# -- application exceptions ---------------------------------------------------------------------


class Boom(Exception):
    pass


def test_app_exception_is_a_500_logged_and_the_server_goes_on(serve_app, caplog):
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/crash":
            raise Boom("kaboom")
        return ok_app(environ, start_response)

    with (
        caplog.at_level(logging.ERROR, logger="bastion.server"),
        serve_app(app, threads=1) as server,
    ):
        for _ in range(3):  # one worker thread: it must survive each crash
            with server.wire() as wire:
                wire.send(b"GET /crash HTTP/1.1\r\nHost: x\r\n\r\n")
                data = wire.read_to_close()
            assert_fixed_and_silent(data, 500)
            assert b"kaboom" not in data
        with server.wire() as wire:  # keep-alive works again after the crashes
            for _ in range(2):
                wire.send(GET_OK)
                response = wire.read_response()
                assert response.status == 200
                assert not response.closes
    errors = [r for r in caplog.records if r.name == "bastion.server" and r.exc_info]
    assert len(errors) == 3
    for record in errors:
        assert record.levelno == logging.ERROR
        assert record.exc_info[0] is Boom
        assert "GET /crash" in record.getMessage()
