"""bastion behind nginx configured as the seed shows (plus X-Real-IP)."""

from __future__ import annotations

import pytest

NGINX_HEADERS = "x-forwarded-for x-forwarded-proto x-forwarded-host x-real-ip"


@pytest.mark.parametrize(("tls", "scheme", "port"), [(False, "http", "80"), (True, "https", "443")])
def test_the_app_sees_the_client_and_what_it_asked_for(stack, fetch, tls, scheme, port):
    backend = stack.bastion(
        "--trusted-proxy", "127.0.0.4", "--trusted-proxy-headers", NGINX_HEADERS
    )
    front = stack.nginx(backend, tls=tls)

    seen = fetch(front, tls=tls, host="www.example.test")

    assert seen.status == 200, stack.logs()
    environ = seen.environ
    assert environ["REMOTE_ADDR"] == "127.0.0.2"
    assert environ["REMOTE_HOST"] == "127.0.0.2"
    assert environ["wsgi.url_scheme"] == scheme
    assert environ["HTTP_HOST"] == "www.example.test"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("www.example.test", port)
    assert environ["proxy_headers"] == {
        "HTTP_X_FORWARDED_FOR": "127.0.0.2",
        "HTTP_X_FORWARDED_PROTO": scheme,
        "HTTP_X_FORWARDED_HOST": "www.example.test",
        "HTTP_X_REAL_IP": "127.0.0.2",
    }


def test_x_real_ip_alone_names_the_client(stack, fetch):
    # The seed's X-Real-IP recipe, with bastion applying it instead of the application.
    backend = stack.bastion("--trusted-proxy", "127.0.0.4", "--trusted-proxy-headers", "x-real-ip")
    seen = fetch(stack.nginx(backend))
    assert seen.status == 200, stack.logs()
    assert seen.environ["REMOTE_ADDR"] == "127.0.0.2"
    # The headers bastion was not told to trust are gone, even from a trusted proxy.
    assert seen.environ["proxy_headers"] == {"HTTP_X_REAL_IP": "127.0.0.2"}


def test_headers_from_an_nginx_that_is_not_trusted_are_dropped(stack, fetch):
    # Trusting 127.0.0.1 does not trust nginx, which connects from 127.0.0.4.
    backend = stack.bastion(
        "--trusted-proxy", "127.0.0.1", "--trusted-proxy-headers", NGINX_HEADERS
    )
    seen = fetch(stack.nginx(backend, tls=True), tls=True)
    assert seen.status == 200, stack.logs()
    assert seen.environ["REMOTE_ADDR"] == "127.0.0.4"
    assert seen.environ["wsgi.url_scheme"] == "http"
    assert seen.environ["proxy_headers"] == {}
