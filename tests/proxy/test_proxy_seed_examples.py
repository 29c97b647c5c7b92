"""Every example of seed 000 (and seed 004's X-Real-IP set-up), run as written.

serve(...) examples build the policy serve() builds from the same keyword arguments
and apply it to the environ a server would hand over; socket-level tests come later.
"""

from __future__ import annotations

import ipaddress
import logging

import pytest

from bastion.proxy_headers import MalformedProxyHeader, proxy_headers_middleware


def test_single_reverse_proxy(serve_policy, make_environ):
    """Seed 000, "Trust single reverse proxy (e.g., nginx on same server)"."""
    policy = serve_policy(
        trusted_proxy="127.0.0.1",
        trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
        host="127.0.0.1",
        port=8080,
    )
    from_proxy = make_environ(
        "127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7", HTTP_X_FORWARDED_PROTO="https"
    )
    policy.apply(from_proxy)
    assert from_proxy["REMOTE_ADDR"] == "203.0.113.7"
    assert from_proxy["wsgi.url_scheme"] == "https"

    from_elsewhere = make_environ(
        "198.51.100.2", HTTP_X_FORWARDED_FOR="203.0.113.7", HTTP_X_FORWARDED_PROTO="https"
    )
    policy.apply(from_elsewhere)
    assert from_elsewhere["REMOTE_ADDR"] == "198.51.100.2"
    assert from_elsewhere["wsgi.url_scheme"] == "http"
    assert "HTTP_X_FORWARDED_FOR" not in from_elsewhere
    assert "HTTP_X_FORWARDED_PROTO" not in from_elsewhere


def test_multiple_hops_without_trusted_proxy(serve_policy, make_environ, caplog):
    """Seed 000, "Trust multiple proxy hops (e.g., Cloudflare + nginx)": no trusted_proxy.

    waitress refuses it; bastion trusts the headers from loopback and unix-socket peers
    only, and says so when the policy is built.
    """
    with caplog.at_level(logging.INFO, logger="bastion.proxy"):
        policy = serve_policy(
            trusted_proxy_count=2,
            trusted_proxy_headers={
                "x-forwarded-for",
                "x-forwarded-proto",
                "x-forwarded-host",
                "x-real-ip",
            },
        )
    assert "loopback and unix-socket peers" in caplog.text
    # Client 203.0.113.1 -> Cloudflare 198.41.128.5 -> nginx on this host -> bastion.
    headers = {
        "HTTP_X_FORWARDED_FOR": "203.0.113.1, 198.41.128.5",
        "HTTP_X_REAL_IP": "198.41.128.5",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_HOST": "example.com",
    }
    from_nginx = make_environ("127.0.0.1", **headers)
    policy.apply(from_nginx)
    assert from_nginx["REMOTE_ADDR"] == "203.0.113.1"
    assert from_nginx["wsgi.url_scheme"] == "https"
    assert from_nginx["HTTP_HOST"] == "example.com"

    over_unix_socket = make_environ("", **headers)
    over_unix_socket["bastion.peer"] = "unix"
    policy.apply(over_unix_socket)
    assert over_unix_socket["REMOTE_ADDR"] == "203.0.113.1"

    from_network = make_environ("192.0.2.10", **headers)
    policy.apply(from_network)
    assert from_network["REMOTE_ADDR"] == "192.0.2.10"
    assert not any(key in from_network for key in headers)


ALL_SIX = {
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-real-ip",
    "forwarded",
}


def test_all_common_headers(serve_policy, make_environ, caplog):
    """Seed 000, "Support all common proxy headers": Forwarded with X-Forwarded-* and X-Real-IP.

    waitress refuses x-real-ip and forwarded-with-x-forwarded-*; bastion trusts all six
    and answers 400 when Forwarded and X-Forwarded-For name different clients.
    """
    policy = serve_policy(
        trusted_proxy="10.0.0.1",
        trusted_proxy_headers=ALL_SIX,
        clear_untrusted=True,
        log_untrusted=True,
    )
    agreeing = make_environ(
        "10.0.0.1",
        HTTP_FORWARDED='for="[2001:db8::1]:4711";proto=https;host=example.com',
        HTTP_X_FORWARDED_FOR="2001:db8::1",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="example.com",
        HTTP_X_FORWARDED_PORT="8443",
        HTTP_X_REAL_IP="2001:db8::1",
        HTTP_X_CLIENT_IP="192.0.2.66",
    )
    with caplog.at_level(logging.WARNING, logger="bastion.proxy"):
        policy.apply(agreeing)
    assert agreeing["REMOTE_ADDR"] == "2001:db8::1"
    assert agreeing["REMOTE_PORT"] == "4711"
    assert agreeing["wsgi.url_scheme"] == "https"
    assert agreeing["HTTP_HOST"] == "example.com:8443"
    assert agreeing["SERVER_PORT"] == "8443"
    assert "HTTP_X_CLIENT_IP" not in agreeing  # an untrusted synonym, removed and logged
    assert "X-Client-IP" in caplog.text

    disagreeing = make_environ(
        "10.0.0.1",
        HTTP_FORWARDED="for=192.0.2.1;proto=https",
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    with pytest.raises(MalformedProxyHeader) as raised:
        policy.apply(disagreeing)
    assert raised.value.header == "Forwarded"
    assert disagreeing["REMOTE_ADDR"] == "10.0.0.1"


def test_middleware_example(call, make_environ):
    """Seed 000, "Use proxy headers middleware": my_app sees the corrected environ."""

    def my_app(environ, start_response):
        client_ip = environ["REMOTE_ADDR"]
        original_host = environ["HTTP_HOST"]
        scheme = environ["wsgi.url_scheme"]
        status = "200 OK"
        headers = [("Content-Type", "text/plain")]
        start_response(status, headers)
        response = f"Client IP: {client_ip}\nHost: {original_host}\nScheme: {scheme}"
        return [response.encode("utf-8")]

    proxied_app = proxy_headers_middleware(
        my_app,
        trusted_proxy="192.168.1.100",
        trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
    )
    environ = make_environ(
        "192.168.1.100", HTTP_X_FORWARDED_FOR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https"
    )
    result = call(proxied_app, environ)
    assert result.status == "200 OK"
    assert result.body == b"Client IP: 203.0.113.9\nHost: localhost:8080\nScheme: https"


def test_chain_with_count_two(serve_policy):
    """Seed 000, X-Forwarded-For through Proxy1 (10.0.0.1) and Proxy2 (127.0.0.1), count 2."""
    policy = serve_policy(
        trusted_proxy="127.0.0.1",
        trusted_proxy_count=2,
        trusted_proxy_headers={"x-forwarded-for"},
    )
    environ_before = {
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_FORWARDED_FOR": "203.0.113.1, 10.0.0.1",
    }
    environ = dict(environ_before)
    policy.apply(environ)
    assert environ["REMOTE_ADDR"] == "203.0.113.1"
    assert environ["HTTP_X_FORWARDED_FOR"] == "203.0.113.1, 10.0.0.1"


def test_https_through_http_proxy(serve_policy):
    """Seed 000, "HTTPS request through HTTP proxy": X-Forwarded-Proto: https."""
    policy = serve_policy(trusted_proxy="127.0.0.1", trusted_proxy_headers={"x-forwarded-proto"})
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "HTTP_X_FORWARDED_PROTO": "https",
    }
    policy.apply(environ)
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["HTTP_X_FORWARDED_PROTO"] == "https"


def test_standard_forwarded_header(serve_policy):
    """Seed 000, "Standard Forwarded header processing"."""
    policy = serve_policy(trusted_proxy="127.0.0.1", trusted_proxy_headers={"forwarded"})
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost:8080",
        "wsgi.url_scheme": "http",
        "HTTP_FORWARDED": "for=203.0.113.1;proto=https;host=example.com",
    }
    policy.apply(environ)
    assert environ["REMOTE_ADDR"] == "203.0.113.1"
    assert environ["HTTP_HOST"] == "example.com"
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["HTTP_FORWARDED"] == "for=203.0.113.1;proto=https;host=example.com"


def test_production_configuration(serve_policy, make_environ, caplog):
    """Seed 000, "Production security configuration"."""
    policy = serve_policy(
        trusted_proxy="10.0.1.100",
        trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
        clear_untrusted=True,
        log_untrusted=True,
        host="127.0.0.1",
        port=8080,
    )
    from_balancer = make_environ(
        "10.0.1.100", HTTP_X_FORWARDED_FOR="198.51.100.4", HTTP_X_FORWARDED_PROTO="https"
    )
    policy.apply(from_balancer)
    assert (from_balancer["REMOTE_ADDR"], from_balancer["wsgi.url_scheme"]) == (
        "198.51.100.4",
        "https",
    )
    spoofed = make_environ("10.0.1.7", HTTP_X_FORWARDED_FOR="10.0.1.100")
    with caplog.at_level(logging.WARNING, logger="bastion.proxy"):
        policy.apply(spoofed)
    assert spoofed["REMOTE_ADDR"] == "10.0.1.7"
    assert "HTTP_X_FORWARDED_FOR" not in spoofed
    assert "10.0.1.7" in caplog.text and "X-Forwarded-For" in caplog.text


def test_high_security_wrapper(call, echo_app, make_environ):
    """Seed 000, "High-security configuration with validation" wrapping the middleware."""

    def is_valid_ip_list(value):
        try:
            for item in value.split(","):
                ipaddress.ip_address(item.strip())
        except ValueError:
            return False
        return True

    def validate_proxy_headers(app):
        def wrapper(environ, start_response):
            xff = environ.get("HTTP_X_FORWARDED_FOR", "")
            if xff and not is_valid_ip_list(xff):
                start_response("400 Bad Request", [])
                return [b"Invalid proxy headers"]
            return app(environ, start_response)

        return wrapper

    secure_app = validate_proxy_headers(
        proxy_headers_middleware(echo_app, trusted_proxy="192.168.1.1")
    )
    refused = call(secure_app, make_environ("192.168.1.1", HTTP_X_FORWARDED_FOR="bogus"))
    assert (refused.status, refused.body) == ("400 Bad Request", b"Invalid proxy headers")

    # The middleware names no trusted header, so even the trusted proxy's XFF is dropped.
    passed = call(secure_app, make_environ("192.168.1.1", HTTP_X_FORWARDED_FOR="203.0.113.5"))
    assert passed.status == "200 OK"
    assert echo_app.seen["REMOTE_ADDR"] == "192.168.1.1"
    assert "HTTP_X_FORWARDED_FOR" not in echo_app.seen


def test_behind_nginx(serve_policy, make_environ):
    """Seed 000, the nginx configuration with its "Corresponding waitress configuration"."""
    policy = serve_policy(
        trusted_proxy="127.0.0.1",
        trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
        host="127.0.0.1",
        port=8080,
    )
    # The client forged X-Forwarded-For; $proxy_add_x_forwarded_for appended its address.
    environ = make_environ(
        "127.0.0.1",
        HTTP_HOST="example.com",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.50",
        HTTP_X_FORWARDED_PROTO="http",
        HTTP_X_FORWARDED_HOST="example.com",
    )
    policy.apply(environ)
    assert environ["REMOTE_ADDR"] == "203.0.113.50"
    assert environ["HTTP_X_FORWARDED_FOR"] == "203.0.113.50"
    assert (environ["HTTP_HOST"], environ["SERVER_NAME"]) == ("example.com", "example.com")
    assert (environ["wsgi.url_scheme"], environ["SERVER_PORT"]) == ("http", "80")


def test_behind_haproxy(serve_policy, make_environ):
    """Seed 000, the HAProxy configuration (option forwardfor) with its waitress configuration."""
    policy = serve_policy(
        trusted_proxy="127.0.0.1",
        trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
        host="127.0.0.1",
        port=8080,
    )
    # option forwardfor adds its own X-Forwarded-For line; the server joins the two lines.
    environ = make_environ(
        "127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.0.0.1, 198.51.100.23",
        HTTP_X_FORWARDED_PROTO="http",
        HTTP_X_REAL_IP="10.0.0.1",
    )
    policy.apply(environ)
    assert environ["REMOTE_ADDR"] == "198.51.100.23"
    assert environ["wsgi.url_scheme"] == "http"
    assert "HTTP_X_REAL_IP" not in environ


def test_x_real_ip_behind_nginx(serve_policy, make_environ):
    """Seed 004: nginx sets X-Real-IP $remote_addr; only the proxy may set it."""
    policy = serve_policy(trusted_proxy="127.0.0.1", trusted_proxy_headers={"x-real-ip"})
    from_nginx = make_environ(
        "127.0.0.1", HTTP_X_REAL_IP="158.1.2.95", HTTP_X_FORWARDED_FOR="6.6.6.6, 158.1.2.95"
    )
    policy.apply(from_nginx)
    assert from_nginx["REMOTE_ADDR"] == "158.1.2.95"
    assert "HTTP_X_FORWARDED_FOR" not in from_nginx  # not trusted: a synonym is removed

    forged = make_environ("158.1.2.95", HTTP_X_REAL_IP="127.0.0.1")
    policy.apply(forged)
    assert forged["REMOTE_ADDR"] == "158.1.2.95"
    assert "HTTP_X_REAL_IP" not in forged
