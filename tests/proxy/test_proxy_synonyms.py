"""X-Cluster-Client-IP, X-Url-Scheme and X-Forwarded-Protocol are proxy headers like the rest.

Other ecosystems' proxy helpers read them as the client's address and scheme, so an
untrusted peer must not pass them on (security review, issue 9, point 9e).
"""

from __future__ import annotations

import logging

import pytest

from bastion.config import Config
from bastion.proxy.policy import CATEGORIES, MalformedProxyHeader, ProxyPolicy

SYNONYMS = {
    "HTTP_X_CLUSTER_CLIENT_IP": "203.0.113.66",
    "HTTP_X_URL_SCHEME": "https",
    "HTTP_X_FORWARDED_PROTOCOL": "https",
}


def test_the_synonyms_are_in_their_categories():
    assert "x-cluster-client-ip" in CATEGORIES["client address"]
    assert {"x-url-scheme", "x-forwarded-protocol"} <= set(CATEGORIES["scheme"])


@pytest.mark.parametrize("trusted_proxy", ["10.0.0.1", None])
def test_an_untrusted_peer_cannot_pass_them_on(trusted_proxy, make_environ):
    policy = ProxyPolicy.from_options(
        trusted_proxy=trusted_proxy, trusted_proxy_headers="x-forwarded-for"
    )
    environ = make_environ("198.51.100.9", **SYNONYMS)
    policy.apply(environ)
    assert not SYNONYMS.keys() & environ.keys()
    assert (environ["REMOTE_ADDR"], environ["wsgi.url_scheme"]) == ("198.51.100.9", "http")


def test_the_default_server_policy_removes_them(make_environ):
    # serve() with no proxy option still clears untrusted proxy headers.
    policy = ProxyPolicy.from_options()
    environ = make_environ("198.51.100.9", **SYNONYMS)
    policy.apply(environ)
    assert not SYNONYMS.keys() & environ.keys()


def test_they_are_logged_like_the_others(make_environ, caplog):
    policy = ProxyPolicy.from_options(
        trusted_proxy="10.0.0.1", trusted_proxy_headers="x-forwarded-for", log_untrusted=True
    )
    with caplog.at_level(logging.WARNING, logger="bastion.proxy"):
        policy.apply(make_environ("198.51.100.9", **SYNONYMS))
    (record,) = caplog.records
    message = record.getMessage()
    assert message == (
        "Removed untrusted proxy headers from 198.51.100.9: "
        "X-Cluster-Client-IP, X-Forwarded-Protocol, X-Url-Scheme"
    )
    assert "203.0.113.66" not in message


def test_a_trusted_peer_keeps_only_the_trusted_one(make_environ):
    policy = ProxyPolicy.from_options(trusted_proxy="10.0.0.1", trusted_proxy_headers="x-real-ip")
    environ = make_environ("10.0.0.1", HTTP_X_REAL_IP="192.0.2.1", **SYNONYMS)
    policy.apply(environ)
    assert environ["REMOTE_ADDR"] == "192.0.2.1"
    assert not SYNONYMS.keys() & environ.keys()


def applied(make_environ, trusted: str, **headers: str):
    policy = ProxyPolicy.from_options(trusted_proxy="10.0.0.1", trusted_proxy_headers=trusted)
    environ = make_environ("10.0.0.1", **headers)
    policy.apply(environ)
    return environ


def test_x_cluster_client_ip_names_the_client(make_environ):
    environ = applied(
        make_environ, "x-cluster-client-ip", HTTP_X_CLUSTER_CLIENT_IP="[2001:db8::7]:4711"
    )
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("2001:db8::7", "4711")


@pytest.mark.parametrize(
    ("trusted", "key", "value", "scheme"),
    [
        ("x-url-scheme", "HTTP_X_URL_SCHEME", "HTTPS", "https"),
        ("x-url-scheme", "HTTP_X_URL_SCHEME", "http", "http"),
        ("x-forwarded-protocol", "HTTP_X_FORWARDED_PROTOCOL", "https", "https"),
        ("x-forwarded-protocol", "HTTP_X_FORWARDED_PROTOCOL", "ssl", "https"),
        ("x-forwarded-protocol", "HTTP_X_FORWARDED_PROTOCOL", "http", "http"),
    ],
)
def test_the_scheme_synonyms_set_the_scheme(trusted, key, value, scheme, make_environ):
    environ = make_environ("10.0.0.1", **{key: value})
    environ["wsgi.url_scheme"] = "https" if scheme == "http" else "http"
    ProxyPolicy.from_options(trusted_proxy="10.0.0.1", trusted_proxy_headers=trusted).apply(environ)
    assert environ["wsgi.url_scheme"] == scheme


@pytest.mark.parametrize(
    ("trusted", "key", "display"),
    [
        ("x-url-scheme", "HTTP_X_URL_SCHEME", "X-Url-Scheme"),
        ("x-forwarded-protocol", "HTTP_X_FORWARDED_PROTOCOL", "X-Forwarded-Protocol"),
        ("x-cluster-client-ip", "HTTP_X_CLUSTER_CLIENT_IP", "X-Cluster-Client-IP"),
    ],
)
def test_a_malformed_synonym_is_refused(trusted, key, display, make_environ):
    with pytest.raises(MalformedProxyHeader) as raised:
        applied(make_environ, trusted, **{key: "gopher, x"})
    assert raised.value.header == display


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        ("x-client-ip x-cluster-client-ip", "192.0.2.3"),
        ("x-cluster-client-ip", "192.0.2.4"),
    ],
)
def test_x_client_ip_comes_before_x_cluster_client_ip(trusted, expected, make_environ):
    environ = applied(
        make_environ, trusted, HTTP_X_CLIENT_IP="192.0.2.3", HTTP_X_CLUSTER_CLIENT_IP="192.0.2.4"
    )
    assert environ["REMOTE_ADDR"] == expected


def test_scheme_values_before_flags(make_environ):
    environ = applied(
        make_environ,
        "x-url-scheme x-forwarded-ssl",
        HTTP_X_URL_SCHEME="https",
        HTTP_X_FORWARDED_SSL="off",
    )
    assert environ["wsgi.url_scheme"] == "https"


def test_the_options_accept_them():
    config = Config.from_kwargs(
        trusted_proxy="10.0.0.1",
        trusted_proxy_headers="X-Cluster-Client-IP x-url-scheme X-Forwarded-Protocol",
    )
    assert config.trusted_proxy_headers == {
        "x-cluster-client-ip",
        "x-url-scheme",
        "x-forwarded-protocol",
    }
