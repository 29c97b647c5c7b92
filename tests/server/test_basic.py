"""Core request/response behaviour over real sockets."""

from __future__ import annotations

import http.client
from wsgiref.validate import validator


@validator
def hello_app(environ, start_response):
    body = b"Hello, " + environ["PATH_INFO"].encode("latin-1")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@validator
def echo_app(environ, start_response):
    # wsgiref's validator insists on read(size).
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return [body]


def test_get_keep_alive_serves_many_requests_on_one_connection(serve_app):
    with serve_app(hello_app) as server:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        for i in range(5):
            conn.request("GET", f"/n{i}")
            response = conn.getresponse()
            assert response.status == 200
            assert response.read() == f"Hello, /n{i}".encode()
            assert response.getheader("Server") == "bastion"
        conn.close()


def test_pipelined_requests_are_answered_in_order(serve_app):
    with serve_app(hello_app) as server:
        data = (
            b"".join(b"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(3))
            + b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        reply = server.exchange(data)
    bodies = [part for part in reply.split(b"\r\n\r\n")[1:] if part]
    assert [body[:20].split(b"HTTP/1.1")[0] for body in bodies] == [
        b"Hello, /p0",
        b"Hello, /p1",
        b"Hello, /p2",
        b"Hello, /last",
    ]


def test_post_body_is_echoed(serve_app):
    with serve_app(echo_app) as server:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        payload = bytes(range(256)) * 1000
        conn.request("POST", "/echo", body=payload)
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == payload
        conn.close()


def test_malformed_request_gets_400_and_close(serve_app):
    with serve_app(hello_app) as server:
        reply = server.exchange(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Connection: close\r\n" in reply
