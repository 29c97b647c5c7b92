"""Two hops, as in the seed: client -> HAProxy -> nginx -> bastion, both adding X-Forwarded-For."""

from __future__ import annotations

import pytest

HEADERS = "x-forwarded-for x-forwarded-proto"
COUNT = ("--trusted-proxy", "127.0.0.4", "--trusted-proxy-count", "2")
WALK = ("--trusted-proxy", "127.0.0.3 127.0.0.4", "--trusted-proxy-mode", "walk")


def chain(stack, *options: str, tls: bool = True) -> int:
    backend = stack.bastion(*options, "--trusted-proxy-headers", HEADERS)
    # nginx passes on the scheme HAProxy reports instead of its own plain-HTTP one.
    middle = stack.nginx(backend, proto="$http_x_forwarded_proto")
    return stack.haproxy(middle, tls=tls)


@pytest.mark.parametrize("options", [COUNT, WALK], ids=["count", "walk"])
def test_the_app_sees_the_client_behind_two_proxies(stack, fetch, options):
    seen = fetch(chain(stack, *options), tls=True)

    assert seen.status == 200, stack.logs()
    environ = seen.environ
    assert environ["REMOTE_ADDR"] == "127.0.0.2"
    assert environ["wsgi.url_scheme"] == "https"
    # HAProxy wrote 127.0.0.2 (its client); nginx appended 127.0.0.3 (HAProxy).
    assert environ["proxy_headers"]["HTTP_X_FORWARDED_FOR"] == "127.0.0.2, 127.0.0.3"


@pytest.mark.parametrize(
    ("options", "forged"),
    [
        (COUNT, "203.0.113.9, 198.51.100.1"),
        # In walk mode a client naming a trusted proxy only adds one more hop to skip.
        (WALK, "127.0.0.3"),
        (WALK, "203.0.113.9, 127.0.0.4"),
    ],
    ids=["count", "walk-forged-proxy", "walk-forged-chain"],
)
def test_a_forged_chain_does_not_name_the_client(stack, fetch, options, forged):
    seen = fetch(chain(stack, *options), tls=True, headers=[("X-Forwarded-For", forged)])

    assert seen.status == 200, stack.logs()
    assert seen.environ["REMOTE_ADDR"] == "127.0.0.2"
    # Only the trusted hops remain for the application.
    assert seen.environ["proxy_headers"]["HTTP_X_FORWARDED_FOR"] == "127.0.0.2, 127.0.0.3"
