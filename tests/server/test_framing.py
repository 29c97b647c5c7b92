"""Response framing on the wire (RFC 9112 6.3): statuses without bodies, Date, header bytes."""

from __future__ import annotations

import email.utils
import time

import pytest

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def status_app(status: str, headers=(), body=(b"should-not-be-sent",)):
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/next":
            start_response("200 OK", [("Content-Length", "4")])
            return [b"next"]
        start_response(status, list(headers))
        return list(body)

    return app


@pytest.mark.parametrize(
    "status, headers",
    [
        ("204 No Content", []),
        ("204 No Content", [("Content-Length", "18")]),
        ("304 Not Modified", []),
        ("304 Not Modified", [("ETag", '"v1"')]),
    ],
)
def test_statuses_without_a_body_send_none(serve_app, status, headers):
    with serve_app(status_app(status, headers)) as server, server.wire() as wire:
        wire.send(GET + b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        response = wire.read_response()
        assert response.status == int(status[:3])
        assert response.header("transfer-encoding") is None
        if status.startswith("204"):
            assert response.header("content-length") is None  # RFC 9110 8.6
        following = wire.read_response()
        assert following.body == b"next", "body bytes leaked after a bodiless status"


def test_head_with_app_content_length_and_body_sends_no_body(serve_app):
    app = status_app("200 OK", [("Content-Length", "18")])
    with serve_app(app) as server, server.wire() as wire:
        wire.send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        head = wire.read_response("HEAD")
        assert head.header("content-length") == "18"
        assert wire.read_response().body == b"next"


def test_date_header_is_present_and_current(serve_app):
    with serve_app(status_app("200 OK", [("Content-Length", "18")])) as server:
        response = server.request(GET)
    date = response.header("date")
    assert date is not None and date.endswith(" GMT")
    parsed = email.utils.parsedate_to_datetime(date)
    assert abs(parsed.timestamp() - time.time()) < 5


def test_app_date_header_is_kept(serve_app):
    fixed = "Sun, 06 Nov 1994 08:49:37 GMT"
    app = status_app("200 OK", [("Date", fixed), ("Content-Length", "18")])
    with serve_app(app) as server:
        response = server.request(GET)
    assert [v for n, v in response.headers if n.lower() == "date"] == [fixed]


def test_latin1_header_values_go_out_as_latin1_bytes(serve_app):
    app = status_app("200 OK", [("X-Name", "caf\u00e9"), ("Content-Length", "18")])
    with serve_app(app) as server:
        response = server.request(GET)
    assert b"X-Name: caf\xe9\r\n" in response.head


def test_non_latin1_header_value_is_refused(serve_app):
    app = status_app("200 OK", [("X-Name", "\u20ac")])
    with serve_app(app) as server:
        response = server.request(GET)
    assert response.status == 500


def test_status_reason_phrase_is_passed_through(serve_app):
    app = status_app("299 Quite Unusual", [("Content-Length", "18")])
    with serve_app(app) as server:
        response = server.request(GET)
    assert response.head.startswith(b"HTTP/1.1 299 Quite Unusual\r\n")


def test_unread_request_body_is_skipped_before_the_next_request(serve_app):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", str(len(environ["PATH_INFO"])))])
        return [environ["PATH_INFO"].encode()]

    with serve_app(app) as server, server.wire() as wire:
        wire.send(
            b"POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 26\r\n\r\n"
            b"GET /smuggled HTTP/1.1\r\n\r\n"
            b"GET /second HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        assert wire.read_response().body == b"/first"
        assert wire.read_response().body == b"/second"
        assert wire.nothing_within(0.2)
