"""No tunnel through a proxy: CONNECT and 1xx finals cannot smuggle a request past it.

The attack (security review, issue 9): HAProxy denies ``/admin`` and adds X-Forwarded-For.
A client sends ``CONNECT`` and, in the same packet, ``GET /admin`` with a forged
X-Forwarded-For.  Had the app answered the CONNECT with 2xx, HAProxy would have become a
tunnel and bastion would have served ``/admin`` to "6.6.6.6" through a trusted proxy.
"""

from __future__ import annotations

import pytest

DENY_ADMIN = "\n    http-request deny if { path_beg /admin }"
TRUSTED = ("--trusted-proxy", "127.0.0.3,127.0.0.4", "--trusted-proxy-headers", "x-forwarded-for")

SMUGGLE = (
    b"CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n"
    b"GET /admin HTTP/1.1\r\nHost: www.example.test\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n"
)


def statuses(data: bytes) -> list[int]:
    return [int(line.split(b" ")[1]) for line in data.split(b"\r\n") if line.startswith(b"HTTP/1.")]


def front(stack, proxy: str, app: str = "envapp:app") -> int:
    backend = stack.bastion(*TRUSTED, app=app)
    if proxy == "haproxy":
        return stack.haproxy(backend, rules=DENY_ADMIN)
    return stack.nginx(backend)


@pytest.mark.parametrize("proxy", ["haproxy", "nginx"])
def test_connect_cannot_open_a_tunnel_past_the_proxy(stack, raw_exchange, proxy):
    port = front(stack, proxy)
    data = raw_exchange(port, SMUGGLE)
    codes = statuses(data)
    assert codes, stack.logs()
    assert not any(200 <= code < 300 for code in codes), (codes, data[:500])
    assert b"6.6.6.6" not in data, "a forged client address reached the app"
    assert b"REMOTE_ADDR" not in data, "the app was called"


def test_haproxy_relays_bastions_501_for_connect(stack, raw_exchange):
    port = front(stack, "haproxy")
    data = raw_exchange(port, SMUGGLE)
    assert statuses(data) == [501], (data[:500], stack.logs())


@pytest.mark.parametrize("proxy", ["haproxy", "nginx"])
def test_an_apps_101_is_a_500_and_the_proxy_stays_http(stack, raw_exchange, proxy):
    port = front(stack, proxy, app="envapp:switching_app")
    data = raw_exchange(
        port,
        b"GET /switch HTTP/1.1\r\nHost: www.example.test\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
        b"GET /admin HTTP/1.1\r\nHost: www.example.test\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n",
    )
    codes = statuses(data)
    assert codes and codes[0] == 500, (data[:500], stack.logs())
    assert 101 not in codes
    assert b"6.6.6.6" not in data
