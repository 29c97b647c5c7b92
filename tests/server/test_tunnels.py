"""No tunnels over WSGI: CONNECT is refused by the server, 1xx finals by the app are 500s.

RFC 9110 9.3.6: a 2xx answer to CONNECT turns the connection into a tunnel, and a proxy
in front stops inspecting it; were bastion to go on parsing requests from it, a client
could smuggle a request past the proxy's rules with forged forwarding headers.
"""

from __future__ import annotations

import logging

import pytest

calls: list[str] = []


def recording_app(environ, start_response):
    calls.append(environ["REQUEST_METHOD"] + " " + environ["PATH_INFO"])
    body = repr(environ.get("REMOTE_ADDR")).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


CONNECT_THEN_ADMIN = (
    b"CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n"
    b"GET /admin HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n"
)


def test_connect_is_501_without_calling_the_app_and_closes(serve_app):
    calls.clear()
    with (
        serve_app(
            recording_app, trusted_proxy="127.0.0.1", trusted_proxy_headers="x-forwarded-for"
        ) as server,
        server.wire() as wire,
    ):
        wire.send(CONNECT_THEN_ADMIN)
        response = wire.read_response()
        assert response.status == 501
        assert response.closes
        assert wire.closed_by_server(), "nothing after the CONNECT may be parsed as a request"
    assert calls == []


def test_connect_with_a_body_is_refused_before_the_body(serve_app):
    calls.clear()
    with serve_app(recording_app) as server:
        response = server.request(
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
            b"Content-Length: 5\r\n\r\nhello"
        )
    assert response.status == 501
    assert calls == []


@pytest.mark.parametrize(
    "status", ["101 Switching Protocols", "100 Continue", "103 Early Hints", "199 Odd"]
)
def test_informational_final_status_from_the_app_is_a_logged_500(serve_app, caplog, status):
    def switching_app(environ, start_response):
        start_response(status, [])
        return [b""]

    with serve_app(switching_app) as server, server.wire() as wire:
        caplog.set_level(logging.ERROR, logger="bastion")
        wire.send(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
            b"GET /admin HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        response = wire.read_response()
        assert response.status == 500
        assert response.closes
        assert wire.closed_by_server(), "the pipelined request must not be served"
    logged = [r for r in caplog.records if r.exc_info and "1xx" in str(r.exc_info[1])]
    assert logged, "the refused status is logged with its reason"
