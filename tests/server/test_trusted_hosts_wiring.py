"""allowed_hosts and friends in the server: checked after trusted-proxy processing."""

from __future__ import annotations

import logging

import pytest

from bastion.config import Config
from bastion.errors import ConfigError

CALLS: list[str] = []


def app(environ, start_response):
    CALLS.append(environ["HTTP_HOST"])
    body = environ["HTTP_HOST"].encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def get(host: str, extra: str = "", path: str = "/") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()


def test_an_allowed_host_reaches_the_app(serve_app):
    with serve_app(app, allowed_hosts="example.com *.example.org") as server:
        assert server.request(get("Example.COM")).body == b"Example.COM"
        assert server.request(get("api.example.org:8080")).status == 200


def test_another_host_gets_400_without_calling_the_app(serve_app, caplog):
    CALLS.clear()
    caplog.set_level(logging.WARNING, logger="bastion.trusted_hosts")
    with serve_app(app, allowed_hosts="example.com") as server, server.wire() as wire:
        wire.send(get("evil.test"))
        response = wire.read_response()
        assert response.status == 400
        assert response.body == b"Invalid Host header\n"
        assert b"evil" not in response.head + response.body
        assert response.closes
        assert wire.closed_by_server()
    assert CALLS == []
    assert any("evil.test" in record.getMessage() for record in caplog.records)


def test_x_forwarded_host_counts_only_from_a_trusted_proxy(serve_app):
    options = {
        "allowed_hosts": "public.example",
        "trusted_proxy": "127.0.0.1",
        "trusted_proxy_headers": "x-forwarded-host",
    }
    with serve_app(app, **options) as server:
        response = server.request(get("internal:8080", "X-Forwarded-Host: public.example\r\n"))
        assert response.status == 200
        assert response.body == b"public.example"
    options["trusted_proxy"] = "192.0.2.1"  # the test client is no longer trusted
    with serve_app(app, **options) as server:
        response = server.request(get("internal:8080", "X-Forwarded-Host: public.example\r\n"))
        assert response.status == 400


def test_a_forged_forwarded_host_cannot_pass_the_check(serve_app):
    with serve_app(app, allowed_hosts="public.example") as server:
        response = server.request(get("evil.test", "X-Forwarded-Host: public.example\r\n"))
        assert response.status == 400


def test_www_redirects_to_the_allowed_name(serve_app):
    with serve_app(app, allowed_hosts="example.com") as server:
        response = server.request(get("www.example.com:8080", path="/a%20b?x=1"))
        assert response.status == 301
        assert response.header("location") == "http://example.com:8080/a%20b?x=1"
        post = b"POST /f HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 0\r\n\r\n"
        assert server.request(post).status == 308
    with serve_app(app, allowed_hosts="example.com", www_redirect=False) as server:
        assert server.request(get("www.example.com")).status == 400


def test_www_redirect_keeps_the_path_as_sent(serve_app):
    """Issue 9 point 9a: "%2F" stays "%2F" (PATH_INFO has it decoded), the query as is."""
    with serve_app(app, allowed_hosts="example.com") as server:
        response = server.request(get("www.example.com", path="/a%2Fb?x=%20"))
    assert response.status == 301
    assert response.header("location") == "http://example.com/a%2Fb?x=%20"


def test_exempt_paths_skip_the_check(serve_app):
    options = {"allowed_hosts": "example.com", "allowed_hosts_exempt_paths": "/health"}
    with serve_app(app, **options) as server:
        assert server.request(get("10.0.0.7:8080", path="/health")).status == 200
        assert server.request(get("10.0.0.7:8080", path="/other")).status == 400


def test_allowed_ports(serve_app):
    with serve_app(app, allowed_hosts="example.com", allowed_ports="443 8443") as server:
        assert server.request(get("example.com:8443")).status == 200
        assert server.request(get("example.com:8080")).status == 400
        assert server.request(get("example.com")).status == 400  # http implies port 80


def test_no_check_by_default(serve_app):
    with serve_app(app) as server:
        assert server.server.handler.host_policy is None
        assert server.request(get("anything.test")).status == 200


def test_a_bad_pattern_is_a_config_error_naming_the_option():
    with pytest.raises(ConfigError, match="allowed_hosts") as raised:
        Config.from_kwargs(allowed_hosts="example.com:80")
    assert "allowed_ports" in str(raised.value)  # says where ports go
