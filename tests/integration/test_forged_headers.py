"""Clients forging proxy headers get nothing through, directly or through a trusted nginx."""

from __future__ import annotations

from bastion.proxy_headers import KNOWN_PROXY_HEADERS

TRUSTED = (
    "--trusted-proxy",
    "127.0.0.4",
    "--trusted-proxy-headers",
    "x-forwarded-for x-forwarded-host x-forwarded-proto x-forwarded-port x-real-ip forwarded",
)

# What the seed's nginx (plus X-Real-IP) sets, and nothing else.
BEHIND_NGINX = (
    "--trusted-proxy",
    "127.0.0.4",
    "--trusted-proxy-headers",
    "x-forwarded-for x-forwarded-proto x-forwarded-host x-real-ip",
)

# Every header bastion knows, of every family: client address, scheme, host, port, prefix, proxy.
FORGED = [
    ("X-Forwarded-For", "203.0.113.66"),
    ("X-Forwarded-For", "198.51.100.66"),
    ("Forwarded", 'for=203.0.113.66;proto=https;host=evil.example;by="[2001:db8::1]"'),
    ("X-Real-IP", "203.0.113.66"),
    ("X-Client-IP", "203.0.113.66"),
    ("X-Cluster-Client-IP", "203.0.113.66"),
    ("X-Forwarded-Host", "evil.example"),
    ("X-Host", "evil.example"),
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Scheme", "https"),
    ("X-Scheme", "https"),
    ("X-Forwarded-Protocol", "https"),
    ("X-Url-Scheme", "https"),
    ("X-Forwarded-SSL", "on"),
    ("X-Forwarded-HTTPS", "on"),
    ("X-HTTPS", "on"),
    ("X-Forwarded-Port", "8443"),
    ("X-Forwarded-Prefix", "/evil"),
    ("X-Script-Name", "/evil"),
    ("X-Forwarded-Script-Name", "/evil"),
    ("X-Forwarded-By", "203.0.113.1"),
    ("X_Forwarded_For", "203.0.113.66"),  # underscores: must not pose as X-Forwarded-For
    ("x-FORWARDED-for", "203.0.113.67"),
]


def test_every_known_proxy_header_is_forged():
    assert {name.lower() for name, _ in FORGED} >= KNOWN_PROXY_HEADERS


def test_a_direct_client_gets_no_forged_header_through(stack, fetch):
    port = stack.bastion(*TRUSTED)

    seen = fetch(port, host="direct.example:8080", headers=FORGED)

    assert seen.status == 200, stack.logs()
    environ = seen.environ
    assert environ["REMOTE_ADDR"] == "127.0.0.2"
    assert environ["REMOTE_PORT"] == str(seen.client_port)
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["HTTP_HOST"] == "direct.example:8080"
    assert environ["SCRIPT_NAME"] == ""
    assert environ["proxy_headers"] == {}
    assert set(environ["headers"]) == {"HTTP_HOST"}


def test_a_forged_prefix_through_nginx_does_not_become_the_client(stack, fetch):
    backend = stack.bastion(*BEHIND_NGINX)
    front = stack.nginx(backend)

    seen = fetch(front, host="www.example.test", headers=FORGED)

    assert seen.status == 200, stack.logs()
    environ = seen.environ
    # nginx appended 127.0.0.2 to the client's list; count mode (1) takes that entry.
    assert environ["REMOTE_ADDR"] == "127.0.0.2"
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["HTTP_HOST"] == "www.example.test"
    assert environ["SCRIPT_NAME"] == ""
    # nginx overwrote X-Forwarded-Proto/-Host and X-Real-IP; bastion trimmed X-Forwarded-For to
    # the trusted hop and removed everything nginx passed on from the client.
    assert environ["proxy_headers"] == {
        "HTTP_X_FORWARDED_FOR": "127.0.0.2",
        "HTTP_X_FORWARDED_PROTO": "http",
        "HTTP_X_FORWARDED_HOST": "www.example.test",
        "HTTP_X_REAL_IP": "127.0.0.2",
    }


def test_a_forged_forwarded_that_nginx_passes_on_is_refused(stack, fetch):
    # Trusting Forwarded behind an nginx that does not set it: nginx passes the client's own
    # Forwarded on. It contradicts nginx's X-Forwarded-For, so bastion refuses the request
    # rather than believe either, and does not echo the value.
    backend = stack.bastion(*TRUSTED)
    front = stack.nginx(backend)

    seen = fetch(front, headers=[("Forwarded", "for=203.0.113.66")])

    assert seen.status == 400
    assert "203.0.113.66" not in seen.body
    assert seen.environ == {}
