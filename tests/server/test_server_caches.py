"""Each server owns its Caches: two servers in one process share no memo."""

from __future__ import annotations

from typing import Any


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["HTTP_HOST"].encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Server", environ["HTTP_HOST"])])
    return [body]


def test_two_servers_remember_only_their_own_requests(serve_app):
    options = {"allowed_hosts": "[::1] one.test two.test", "allowed_ports": None}
    with serve_app(app, **options) as one, serve_app(app, **options) as two:
        first, second = one.server, two.server
        assert first.caches is not second.caches
        for server in (first, second):
            caches = server.caches
            assert all(t.environ_keys is caches.environ_keys for t in server.templates.values())
            assert server.handler.host_policy._caches is caches
            assert server.settings.caches is caches
        assert one.request(b"GET /a HTTP/1.1\r\nHost: one.test\r\nX-One: 1\r\n\r\n").status == 200
        assert two.request(b"GET /b HTTP/1.1\r\nHost: [0:0::1]\r\n\r\n").status == 200
    assert "GET /a HTTP/1.1" in first.caches.request_lines
    assert "GET /a HTTP/1.1" not in second.caches.request_lines
    assert "X-One: 1" in first.caches.header_lines
    assert "x-one" in first.caches.environ_keys and "x-one" not in second.caches.environ_keys
    assert ("X-Server", "one.test") in first.caches.response_headers
    assert ("X-Server", "one.test") not in second.caches.response_headers
    assert second.caches.ipv6_literals == {"0:0::1": "[::1]"}
    assert first.caches.ipv6_literals == {}
