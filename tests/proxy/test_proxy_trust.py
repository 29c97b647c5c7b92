"""Which peers are trusted, and what reaches the app from trusted and untrusted peers."""

from __future__ import annotations

import pytest

from bastion.proxy.policy import (
    ALL_PROXY_HEADERS,
    CATEGORIES,
    KNOWN_PROXY_HEADERS,
    PEER_KIND_KEY,
    ProxyPolicy,
)

XFF = {"trusted_proxy_headers": "x-forwarded-for"}


def client_of(policy: ProxyPolicy, peer: str, make_environ, unix: bool = False) -> str:
    environ = make_environ(peer, HTTP_X_FORWARDED_FOR="203.0.113.77")
    if unix:
        environ[PEER_KIND_KEY] = "unix"
    policy.apply(environ)
    return environ["REMOTE_ADDR"]


@pytest.mark.parametrize(
    ("trusted_proxy", "peer", "trusted"),
    [
        ("10.0.0.1", "10.0.0.1", True),
        ("10.0.0.1", "10.0.0.2", False),
        (["10.0.0.1", "10.0.0.2"], "10.0.0.2", True),
        ("10.0.0.1, 10.0.0.2", "10.0.0.2", True),
        ("10.0.0.1 10.0.0.2", "10.0.0.3", False),
        ("10.0.0.0/8", "10.200.3.4", True),
        ("10.0.0.0/8", "11.0.0.1", False),
        ("2001:db8::/32", "2001:db8:1::5", True),
        ("2001:db8::/32", "2001:db9::5", False),
        ("2001:DB8::1", "2001:db8:0:0::1", True),
        ("127.0.0.1", "::ffff:127.0.0.1", True),
        ("*", "198.51.100.1", True),
        ("*", "2001:db8::9", True),
        ("local", "127.0.0.5", True),
        ("local", "::1", True),
        ("local", "192.0.2.1", False),
        ("unix", "127.0.0.1", False),
        ("10.0.0.1", "", False),
        ("10.0.0.1", "not-an-address", False),
    ],
)
def test_trusted_proxy_forms(trusted_proxy, peer, trusted, make_environ):
    policy = ProxyPolicy.from_options(trusted_proxy=trusted_proxy, **XFF)
    assert (client_of(policy, peer, make_environ) == "203.0.113.77") is trusted


@pytest.mark.parametrize(
    ("trusted_proxy", "trusted"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("127.0.0.0/8", True),
        ("0.0.0.0/0", True),
        ("local", True),
        ("unix", True),
        ("*", True),
        (None, True),  # headers named without trusted_proxy: loopback and unix only
        ("10.0.0.1", False),
        ("2001:db8::/32", False),
    ],
)
def test_unix_socket_peers_count_as_local(trusted_proxy, trusted, make_environ):
    policy = ProxyPolicy.from_options(trusted_proxy=trusted_proxy, **XFF)
    assert (client_of(policy, "", make_environ, unix=True) == "203.0.113.77") is trusted


def test_no_trusted_proxy_trusts_loopback_only(make_environ):
    policy = ProxyPolicy.from_options(**XFF)
    assert client_of(policy, "127.0.0.1", make_environ) == "203.0.113.77"
    assert client_of(policy, "::1", make_environ) == "203.0.113.77"
    assert client_of(policy, "10.0.0.1", make_environ) == "10.0.0.1"


def test_no_headers_named_trusts_nothing(make_environ):
    policy = ProxyPolicy.from_options()
    environ = make_environ("127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    policy.apply(environ)
    assert environ["wsgi.url_scheme"] == "http"
    assert "HTTP_X_FORWARDED_PROTO" not in environ


# One forged value per known header, each chosen to change the environ if it were trusted.
FORGED = {
    "HTTP_FORWARDED": "for=192.0.2.1;proto=https;host=evil.example",
    "HTTP_X_FORWARDED_FOR": "192.0.2.1",
    "HTTP_X_REAL_IP": "192.0.2.1",
    "HTTP_X_CLIENT_IP": "192.0.2.1",
    "HTTP_X_CLUSTER_CLIENT_IP": "192.0.2.1",
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_SCHEME": "https",
    "HTTP_X_SCHEME": "https",
    "HTTP_X_FORWARDED_PROTOCOL": "https",
    "HTTP_X_URL_SCHEME": "https",
    "HTTP_X_FORWARDED_SSL": "on",
    "HTTP_X_FORWARDED_HTTPS": "on",
    "HTTP_X_HTTPS": "on",
    "HTTP_X_FORWARDED_HOST": "evil.example",
    "HTTP_X_HOST": "evil.example",
    "HTTP_X_FORWARDED_PORT": "4443",
    "HTTP_X_FORWARDED_PREFIX": "/evil",
    "HTTP_X_SCRIPT_NAME": "/evil",
    "HTTP_X_FORWARDED_SCRIPT_NAME": "/evil",
    "HTTP_X_FORWARDED_BY": "192.0.2.1",
}


def test_forged_table_covers_every_known_header():
    assert {key[5:] for key in FORGED} == ALL_PROXY_HEADERS
    assert len(KNOWN_PROXY_HEADERS) == len(ALL_PROXY_HEADERS) == 20


@pytest.mark.parametrize("trusted_proxy", ["10.0.0.1", "10.0.0.0/8", None])
def test_untrusted_peer_forging_every_header_changes_nothing(trusted_proxy, make_environ):
    """Spoofing: nothing an untrusted peer sends reaches the app (X-Client-IP included)."""
    policy = ProxyPolicy.from_options(
        trusted_proxy=trusted_proxy, trusted_proxy_headers=KNOWN_PROXY_HEADERS
    )
    environ = make_environ("198.51.100.9", **FORGED)
    untouched = make_environ("198.51.100.9")
    policy.apply(environ)
    assert environ.keys() == untouched.keys()
    for key in ("REMOTE_ADDR", "REMOTE_HOST", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT"):
        assert environ[key] == untouched[key]
    assert (environ["wsgi.url_scheme"], environ["SCRIPT_NAME"]) == ("http", "")


@pytest.mark.parametrize("trusted", sorted(KNOWN_PROXY_HEADERS))
def test_trusted_peer_passes_only_trusted_headers(trusted, make_environ):
    """From a trusted peer only the trusted header survives; its synonyms are removed."""
    policy = ProxyPolicy.from_options(trusted_proxy="10.0.0.1", trusted_proxy_headers=trusted)
    environ = make_environ("10.0.0.1", **FORGED)
    policy.apply(environ)
    key = "HTTP_" + trusted.upper().replace("-", "_")
    assert [name for name in FORGED if name in environ] == [key]


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_every_category_member_is_removed_from_untrusted_peers(category, make_environ):
    policy = ProxyPolicy.from_options(trusted_proxy="10.0.0.1", trusted_proxy_headers="x-host")
    names = CATEGORIES[category]
    environ = make_environ(
        "192.0.2.200",
        **{"HTTP_" + n.upper().replace("-", "_"): FORGED["HTTP_X_FORWARDED_BY"] for n in names},
    )
    policy.apply(environ)
    assert not [key for key in environ if key[5:] in ALL_PROXY_HEADERS]


def test_clear_untrusted_off_keeps_headers_but_does_not_apply_them(make_environ):
    policy = ProxyPolicy.from_options(
        trusted_proxy="10.0.0.1", trusted_proxy_headers="x-forwarded-for", clear_untrusted=False
    )
    spoofed = make_environ("192.0.2.5", HTTP_X_FORWARDED_FOR="10.9.9.9", HTTP_X_REAL_IP="1.1.1.1")
    policy.apply(spoofed)
    assert spoofed["REMOTE_ADDR"] == "192.0.2.5"
    assert spoofed["HTTP_X_FORWARDED_FOR"] == "10.9.9.9"
    trusted = make_environ("10.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9", HTTP_X_REAL_IP="1.1.1.1")
    policy.apply(trusted)
    assert trusted["REMOTE_ADDR"] == "10.9.9.9"
    assert trusted["HTTP_X_REAL_IP"] == "1.1.1.1"


def test_environ_without_proxy_headers_is_left_alone(make_environ):
    policy = ProxyPolicy.from_options(trusted_proxy="*", trusted_proxy_headers=KNOWN_PROXY_HEADERS)
    environ = make_environ("10.0.0.1")
    before = dict(environ)
    policy.apply(environ)
    assert environ == before


def test_applying_twice_does_not_trust_the_rewritten_client(make_environ):
    """Server policy then middleware: the second pass sees the client, an untrusted peer."""
    policy = ProxyPolicy.from_options(trusted_proxy="10.0.0.1", trusted_proxy_headers="x-real-ip")
    environ = make_environ("10.0.0.1", HTTP_X_REAL_IP="192.0.2.1")
    policy.apply(environ)
    assert (environ["REMOTE_ADDR"], environ["HTTP_X_REAL_IP"]) == ("192.0.2.1", "192.0.2.1")
    policy.apply(environ)
    assert environ["REMOTE_ADDR"] == "192.0.2.1"
    assert "HTTP_X_REAL_IP" not in environ
