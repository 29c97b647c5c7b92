"""Behind HAProxy with the PROXY protocol a client cannot forge its address in a header.

``mode tcp`` passes the client's bytes through, headers included, on HAProxy's trusted
connection: the preamble must be all bastion believes (security review, issue 9, point 8).
``mode http`` sets the headers itself, and may be trusted with --proxy-protocol-headers.
With ``send-proxy-v2-ssl`` the preamble also says whether the client came over TLS.
"""

from __future__ import annotations

import pytest

HEADERS = ("--trusted-proxy-headers", "x-forwarded-for x-forwarded-proto forwarded")
FORGED = [
    ("X-Forwarded-For", "9.9.9.9"),
    ("X-Forwarded-Proto", "https"),
    ("Forwarded", "for=9.9.9.9;proto=https"),
]


@pytest.mark.parametrize("send_proxy", ["send-proxy", "send-proxy-v2"])
def test_tcp_mode_the_preamble_names_the_client_whatever_the_headers(stack, fetch, send_proxy):
    backend = stack.bastion("--proxy-protocol", "--trusted-proxy", "127.0.0.3", *HEADERS)
    front = stack.haproxy(backend, mode="tcp", send_proxy=send_proxy)

    seen = fetch(front, host="www.example.test", headers=FORGED)

    assert seen.status == 200, stack.logs()
    environ = seen.environ
    assert environ["REMOTE_ADDR"] == "127.0.0.2"
    assert environ["REMOTE_PORT"] == str(seen.client_port)
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["proxy_headers"] == {}
    assert "trusted_proxy_headers are ignored" in stack.logs()


def test_http_mode_with_the_opt_in_trusts_what_haproxy_sets(stack, fetch):
    backend = stack.bastion(
        "--proxy-protocol", "--proxy-protocol-headers", "--trusted-proxy", "127.0.0.3", *HEADERS
    )
    front = stack.haproxy(backend, mode="http", send_proxy="send-proxy-v2")

    seen = fetch(front, host="www.example.test", headers=FORGED[:2])

    assert seen.status == 200, stack.logs()
    environ = seen.environ
    # option forwardfor appended the client's address; count mode (1) takes that entry, and
    # HAProxy overwrote X-Forwarded-Proto.
    assert environ["REMOTE_ADDR"] == "127.0.0.2"
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["proxy_headers"] == {
        "HTTP_X_FORWARDED_FOR": "127.0.0.2",
        "HTTP_X_FORWARDED_PROTO": "http",
    }


@pytest.mark.parametrize(("tls", "scheme"), [(True, "https"), (False, "http")])
def test_tcp_mode_send_proxy_v2_ssl_gives_the_scheme(stack, fetch, tls, scheme):
    backend = stack.bastion("--proxy-protocol", "--trusted-proxy", "127.0.0.3")
    front = stack.haproxy(backend, tls=tls, mode="tcp", send_proxy="send-proxy-v2-ssl")

    seen = fetch(front, tls=tls, host="www.example.test", headers=[FORGED[1]])

    assert seen.status == 200, stack.logs()
    assert seen.environ["REMOTE_ADDR"] == "127.0.0.2"
    assert seen.environ["wsgi.url_scheme"] == scheme
    assert seen.environ["proxy_headers"] == {}
