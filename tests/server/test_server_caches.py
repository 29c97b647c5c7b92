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


def test_remembered_requests_stay_as_parsed_through_the_whole_pipeline(serve_app, tmp_path):
    """Nothing after the parser writes to a Request: a remembered one serves every repeat.

    A buffered chunked body reaches the app sized (CONTENT_LENGTH, no Transfer-Encoding)
    through the environ alone; proxy headers, the Host check and the access log read it.
    """
    seen = []

    def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        te = "HTTP_TRANSFER_ENCODING" in environ
        seen.append((environ.get("CONTENT_LENGTH"), te, environ["REMOTE_ADDR"]))
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    options = {
        "trusted_proxy": "127.0.0.1",
        "trusted_proxy_headers": "x-forwarded-for",
        "allowed_hosts": "x",
        "access_log": str(tmp_path / "access.log"),
    }
    head = (
        b"POST /up HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.9.8.7\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    with serve_app(echo, **options) as running:
        with running.wire() as wire:
            for body in (b"5\r\nhello\r\n0\r\n\r\n", b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"):
                wire.send(head + body)
                assert wire.read_response().status == 200
        remembered = running.server.caches.request_heads[head.decode("latin-1")][1]
    assert seen == [("5", False, "10.9.8.7"), ("7", False, "10.9.8.7")]
    assert remembered.headers == {
        "host": "x",
        "x-forwarded-for": "10.9.8.7",
        "transfer-encoding": "chunked",
    }
    assert remembered.chunked and remembered.content_length == 0
