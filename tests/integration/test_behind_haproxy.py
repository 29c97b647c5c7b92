"""bastion behind HAProxy: forwarding headers, then the PROXY protocol and no headers at all."""

from __future__ import annotations

import pytest

HAPROXY_HEADERS = "x-forwarded-for x-forwarded-proto"


@pytest.mark.parametrize(("tls", "scheme"), [(False, "http"), (True, "https")])
def test_forwardfor_and_proto(stack, fetch, tls, scheme):
    backend = stack.bastion(
        "--trusted-proxy", "127.0.0.3", "--trusted-proxy-headers", HAPROXY_HEADERS
    )
    front = stack.haproxy(backend, tls=tls)

    seen = fetch(front, tls=tls, host="www.example.test")

    assert seen.status == 200, stack.logs()
    environ = seen.environ
    assert environ["REMOTE_ADDR"] == "127.0.0.2"
    assert environ["wsgi.url_scheme"] == scheme
    assert environ["HTTP_HOST"] == "www.example.test"
    assert environ["proxy_headers"] == {
        "HTTP_X_FORWARDED_FOR": "127.0.0.2",
        "HTTP_X_FORWARDED_PROTO": scheme,
    }


@pytest.mark.parametrize(
    ("mode", "send_proxy"),
    [("http", "send-proxy-v2"), ("tcp", "send-proxy-v2"), ("tcp", "send-proxy")],
)
def test_proxy_protocol_gives_the_client_address_and_port(stack, client, mode, send_proxy):
    backend = stack.bastion("--proxy-protocol", "--trusted-proxy", "127.0.0.3")
    front = stack.haproxy(backend, mode=mode, send_proxy=send_proxy)

    connection = client(front)
    first = connection.get(host="www.example.test")
    second = connection.get(host="www.example.test")

    for seen in (first, second):
        assert seen.status == 200, stack.logs()
        environ = seen.environ
        assert environ["REMOTE_ADDR"] == "127.0.0.2"
        assert environ["REMOTE_PORT"] == str(connection.port)
        assert environ["wsgi.url_scheme"] == "http"
        assert environ["HTTP_HOST"] == "www.example.test"
        # The preamble alone names the client: without --proxy-protocol-headers even the
        # headers HAProxy sets in http mode are removed.
        assert environ["proxy_headers"] == {}


def test_proxy_protocol_from_a_proxy_that_is_not_trusted_is_refused(stack, fetch):
    backend = stack.bastion("--proxy-protocol", "--trusted-proxy", "127.0.0.4")
    seen = fetch(stack.haproxy(backend, send_proxy="send-proxy-v2"))
    # bastion closes HAProxy's connection without answering; HAProxy reports a bad gateway.
    assert seen.status == 502
    assert seen.environ == {}


def test_proxy_protocol_required_when_enabled(stack, fetch):
    backend = stack.bastion("--proxy-protocol", "--trusted-proxy", "127.0.0.3")
    seen = fetch(stack.haproxy(backend))
    assert seen.status == 502
    assert seen.environ == {}


def test_proxy_protocol_and_forwarded_proto_together(stack, fetch):
    # HAProxy in http mode, and the opt-in: the preamble gives the client's address; the
    # header, sent by the trusted proxy itself (127.0.0.3), gives the scheme.  Trust is judged
    # by the proxy's address, not the client's.
    backend = stack.bastion(
        "--proxy-protocol",
        "--proxy-protocol-headers",
        "--trusted-proxy",
        "127.0.0.3",
        "--trusted-proxy-headers",
        "x-forwarded-proto",
    )
    front = stack.haproxy(backend, tls=True, send_proxy="send-proxy-v2")

    seen = fetch(front, tls=True, host="www.example.test")

    assert seen.status == 200, stack.logs()
    environ = seen.environ
    assert environ["REMOTE_ADDR"] == "127.0.0.2"
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["HTTP_HOST"] == "www.example.test"
    # option forwardfor's X-Forwarded-For is not trusted here, so it is removed.
    assert environ["proxy_headers"] == {"HTTP_X_FORWARDED_PROTO": "https"}
