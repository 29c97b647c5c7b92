"""The trusted-proxy policy as the server applies it, over real sockets.

The policy's rules are unit-tested in tests/proxy; these tests show that serve()'s options
reach it, that it runs for every request, and how its errors are answered.
"""

from __future__ import annotations

import json

import pytest


def environ_app(environ, start_response):
    keys = ("REMOTE_ADDR", "HTTP_HOST", "wsgi.url_scheme", "HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP")
    body = json.dumps({key: environ.get(key) for key in keys}).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


FORGED = (
    b"GET / HTTP/1.1\r\nHost: app.example\r\n"
    b"X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n"
    b"X-Forwarded-Host: evil.example\r\nX-Real-IP: 203.0.113.8\r\n"
    b"X-Client-IP: 203.0.113.7\r\nForwarded: for=203.0.113.6;proto=https\r\n\r\n"
)


def seen(server, raw: bytes) -> dict:
    response = server.request(raw)
    assert response.status == 200, response
    return json.loads(response.body)


def test_forged_headers_from_an_untrusted_peer_never_reach_the_app(serve_app):
    with serve_app(
        environ_app,
        trusted_proxy="192.0.2.1",
        trusted_proxy_headers="x-forwarded-for x-forwarded-proto x-forwarded-host x-real-ip",
    ) as server:
        env = seen(server, FORGED)
    assert env == {
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "app.example",
        "wsgi.url_scheme": "http",
        "HTTP_X_FORWARDED_FOR": None,
        "HTTP_X_REAL_IP": None,
    }


def test_with_no_proxy_options_forged_headers_are_still_cleared(serve_app):
    # waitress's default (clear_untrusted_proxy_headers=True) holds in bastion.
    with serve_app(environ_app) as server:
        env = seen(server, FORGED)
    assert env["HTTP_X_FORWARDED_FOR"] is None and env["HTTP_X_REAL_IP"] is None
    assert env["wsgi.url_scheme"] == "http"


def test_clear_untrusted_off_passes_headers_but_trusts_none(serve_app):
    with serve_app(environ_app, clear_untrusted_proxy_headers=False) as server:
        env = seen(server, FORGED)
    assert env["HTTP_X_FORWARDED_FOR"] == "203.0.113.9"
    assert env["REMOTE_ADDR"] == "127.0.0.1"


def test_a_trusted_peer_sets_client_scheme_and_host(serve_app):
    options = {
        "trusted_proxy": "127.0.0.1",
        "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
    }
    raw = (
        b"GET / HTTP/1.1\r\nHost: internal:8080\r\nX-Forwarded-For: 198.51.100.4\r\n"
        b"X-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\n\r\n"
    )
    with serve_app(environ_app, **options) as server:
        env = seen(server, raw)
    assert env["REMOTE_ADDR"] == "198.51.100.4"
    assert env["wsgi.url_scheme"] == "https"
    assert env["HTTP_HOST"] == "shop.example"


def test_headers_without_trusted_proxy_are_trusted_from_loopback(serve_app):
    # Seed 000's Cloudflare + nginx example, refused by waitress: count 2, no trusted_proxy.
    options = {
        "trusted_proxy_count": 2,
        "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-real-ip"},
    }
    raw = b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.1, 10.0.0.1\r\n\r\n"
    with serve_app(environ_app, **options) as server:
        env = seen(server, raw)
    assert env["REMOTE_ADDR"] == "203.0.113.1"


@pytest.mark.parametrize(
    "header",
    [b"X-Forwarded-For: <script>not-an-ip</script>", b"X-Forwarded-Proto: gopher-secret"],
)
def test_a_malformed_trusted_header_gets_400_without_echo(serve_app, header):
    options = {
        "trusted_proxy": "127.0.0.1",
        "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto",
    }
    called = []

    def app(environ, start_response):
        called.append(environ)
        return environ_app(environ, start_response)

    with serve_app(app, **options) as server:
        response = server.request(b"GET / HTTP/1.1\r\nHost: a\r\n" + header + b"\r\n\r\n")
        assert response.status == 400
        value = header.split(b": ", 1)[1]
        assert value not in response.body and value not in response.head
        assert response.closes
        assert server.request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").status == 200
    assert len(called) == 1, "the app ran for the malformed request"


def test_unix_socket_peers_count_as_local(serve_app, tmp_path):
    path = str(tmp_path / "s.sock")
    options = {"unix_socket": path, "trusted_proxy_headers": "x-forwarded-for"}
    raw = b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.77\r\n\r\n"
    with serve_app(environ_app, **options) as server:
        env = seen(server, raw)
    assert env["REMOTE_ADDR"] == "198.51.100.77"
