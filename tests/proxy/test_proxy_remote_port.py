"""REMOTE_PORT follows REMOTE_ADDR: a trusted header naming the client without a port
leaves it empty instead of keeping the proxy's port (security review, issue 9, 9c)."""

from __future__ import annotations

import pytest

from bastion.proxy_headers import ProxyPolicy, proxy_headers_middleware

PROXY_PORT = "50000"  # the peer's port in base_environ: the proxy's own


def applied(make_environ, headers: str, **environ_headers: str):
    policy = ProxyPolicy.from_options(trusted_proxy="10.0.0.1", trusted_proxy_headers=headers)
    environ = make_environ("10.0.0.1", **environ_headers)
    policy.apply(environ)
    return environ


@pytest.mark.parametrize(
    ("headers", "key", "value"),
    [
        ("x-forwarded-for", "HTTP_X_FORWARDED_FOR", "203.0.113.4"),
        ("x-forwarded-for", "HTTP_X_FORWARDED_FOR", "198.51.100.1:999, 203.0.113.4"),
        ("x-real-ip", "HTTP_X_REAL_IP", "203.0.113.4"),
        ("x-client-ip", "HTTP_X_CLIENT_IP", "203.0.113.4"),
        ("forwarded", "HTTP_FORWARDED", "for=203.0.113.4"),
        ("forwarded", "HTTP_FORWARDED", 'for="203.0.113.4:_hidden"'),
    ],
)
def test_a_client_without_a_port_has_an_empty_remote_port(headers, key, value, make_environ):
    environ = applied(make_environ, headers, **{key: value})
    assert environ["REMOTE_ADDR"] == "203.0.113.4"
    assert environ["REMOTE_PORT"] == ""


@pytest.mark.parametrize(
    ("headers", "key", "value"),
    [
        ("x-forwarded-for", "HTTP_X_FORWARDED_FOR", "203.0.113.4:4711"),
        ("forwarded", "HTTP_FORWARDED", 'for="203.0.113.4:4711"'),
    ],
)
def test_a_client_with_a_port_has_that_port(headers, key, value, make_environ):
    assert applied(make_environ, headers, **{key: value})["REMOTE_PORT"] == "4711"


@pytest.mark.parametrize(
    "value", ["for=unknown", "for=_hidden", "proto=https"], ids=["unknown", "hidden", "no-for"]
)
def test_no_client_named_keeps_the_peer_and_its_port(value, make_environ):
    environ = applied(make_environ, "forwarded", HTTP_FORWARDED=value)
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("10.0.0.1", PROXY_PORT)


def test_an_untrusted_peer_keeps_its_own_port(make_environ):
    policy = ProxyPolicy.from_options(trusted_proxy="10.0.0.2", trusted_proxy_headers="x-real-ip")
    environ = make_environ("10.0.0.1", HTTP_X_REAL_IP="203.0.113.4")
    policy.apply(environ)
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("10.0.0.1", PROXY_PORT)


def test_the_middleware_empties_it_too(make_environ, echo_app, call):
    app = proxy_headers_middleware(
        echo_app, trusted_proxy="10.0.0.1", trusted_proxy_headers={"x-forwarded-for"}
    )
    call(app, make_environ("10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.4"))
    assert echo_app.seen["REMOTE_PORT"] == ""
