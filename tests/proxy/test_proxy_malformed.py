"""Malformed trusted values: MalformedProxyHeader, a 400 that never echoes, logs without values."""

from __future__ import annotations

import logging

import pytest

from bastion.proxy_headers import (
    KNOWN_PROXY_HEADERS,
    MalformedProxyHeader,
    ProxyPolicy,
    proxy_headers_middleware,
)

# Each value carries the marker so a test can prove it never leaves the exception.
MARK = "zq7"
MALFORMED = [
    ("HTTP_X_FORWARDED_FOR", f"{MARK}.example", "X-Forwarded-For"),
    ("HTTP_X_FORWARDED_FOR", f"192.0.2.1%{MARK}", "X-Forwarded-For"),
    ("HTTP_X_FORWARDED_FOR", f"[::1]{MARK}", "X-Forwarded-For"),
    ("HTTP_X_FORWARDED_FOR", f"192.0.2.1:{MARK}", "X-Forwarded-For"),
    ("HTTP_X_FORWARDED_FOR", f'"192.0.2.1{MARK}', "X-Forwarded-For"),
    ("HTTP_X_REAL_IP", f"<{MARK}>", "X-Real-IP"),
    ("HTTP_X_REAL_IP", f"192.0.2.1, 192.0.2.2 {MARK}", "X-Real-IP"),
    ("HTTP_X_CLIENT_IP", f"unknown{MARK}", "X-Client-IP"),
    ("HTTP_X_FORWARDED_PROTO", f"javascript{MARK}", "X-Forwarded-Proto"),
    ("HTTP_X_FORWARDED_PROTO", f"https, http{MARK}", "X-Forwarded-Proto"),
    ("HTTP_X_FORWARDED_SCHEME", f"ftp{MARK}", "X-Forwarded-Scheme"),
    ("HTTP_X_FORWARDED_SSL", f"maybe{MARK}", "X-Forwarded-SSL"),
    ("HTTP_X_FORWARDED_PORT", f"0{MARK}", "X-Forwarded-Port"),
    ("HTTP_X_FORWARDED_PORT", "65536", "X-Forwarded-Port"),
    ("HTTP_X_FORWARDED_PORT", "0", "X-Forwarded-Port"),
    ("HTTP_X_FORWARDED_PORT", "٨٠", "X-Forwarded-Port"),
    # One port rule (bastion.http.authority): no leading zeros, none empty.
    ("HTTP_X_FORWARDED_PORT", "0443", "X-Forwarded-Port"),
    ("HTTP_X_FORWARDED_FOR", "192.0.2.1:080", "X-Forwarded-For"),
    ("HTTP_X_FORWARDED_FOR", "[2001:db8::1]:", "X-Forwarded-For"),
    ("HTTP_X_FORWARDED_HOST", f"{MARK}.example:", "X-Forwarded-Host"),
    ("HTTP_X_FORWARDED_HOST", f"{MARK}.example:0080", "X-Forwarded-Host"),
    ("HTTP_FORWARDED", 'for="[2001:db8::1]:08080"', "Forwarded"),
    ("HTTP_FORWARDED", f"for=192.0.2.1;host={MARK}.example:00", "Forwarded"),
    ("HTTP_X_FORWARDED_HOST", f"{MARK}.example/evil", "X-Forwarded-Host"),
    ("HTTP_X_FORWARDED_HOST", f"{MARK}.example:99999", "X-Forwarded-Host"),
    ("HTTP_X_FORWARDED_HOST", f"{MARK} example", "X-Forwarded-Host"),
    ("HTTP_X_FORWARDED_HOST", f"[{MARK}]", "X-Forwarded-Host"),
    ("HTTP_X_HOST", f"{MARK}@example", "X-Host"),
    ("HTTP_X_FORWARDED_PREFIX", f"{MARK}/relative", "X-Forwarded-Prefix"),
    ("HTTP_X_FORWARDED_PREFIX", f"/{MARK}/../etc", "X-Forwarded-Prefix"),
    ("HTTP_X_SCRIPT_NAME", f"/{MARK}%0a", "X-Script-Name"),
    ("HTTP_FORWARDED", f"for={MARK}", "Forwarded"),
    ("HTTP_FORWARDED", f"for=192.0.2.1;proto={MARK}", "Forwarded"),
    ("HTTP_FORWARDED", f'for="192.0.2.1";host="{MARK}/x"', "Forwarded"),
    ("HTTP_FORWARDED", f"for = 192.0.2.1;by={MARK}", "Forwarded"),
]


@pytest.fixture
def policy():
    return ProxyPolicy.from_options(
        trusted_proxy="10.0.0.1", trusted_proxy_headers=KNOWN_PROXY_HEADERS
    )


@pytest.mark.parametrize(("key", "value", "name"), MALFORMED)
def test_malformed_value_raises_naming_the_header(key, value, name, policy, make_environ):
    environ = make_environ("10.0.0.1", **{key: value})
    before = dict(environ)
    with pytest.raises(MalformedProxyHeader) as raised:
        policy.apply(environ)
    error = raised.value
    assert (error.header, error.value, error.status) == (name, value, 400)
    assert MARK not in error.reason
    assert MARK not in str(error)
    assert environ == before


@pytest.mark.parametrize(("key", "value", "name"), MALFORMED)
def test_middleware_answers_400_without_echoing(key, value, name, call, echo_app, make_environ):
    app = proxy_headers_middleware(
        echo_app, trusted_proxy="10.0.0.1", trusted_proxy_headers=KNOWN_PROXY_HEADERS
    )
    result = call(app, make_environ("10.0.0.1", **{key: value}))
    assert result.status == "400 Bad Request"
    assert result.body == f'Bad Request\r\n\r\nHeader "{name}" malformed.\r\n'.encode()
    assert dict(result.headers)["Content-Length"] == str(len(result.body))
    assert echo_app.seen is None


def test_malformed_value_from_an_untrusted_peer_is_just_removed(policy, make_environ):
    environ = make_environ("192.0.2.9", HTTP_X_FORWARDED_FOR=f"{MARK}", HTTP_FORWARDED="((")
    policy.apply(environ)
    assert "HTTP_X_FORWARDED_FOR" not in environ and "HTTP_FORWARDED" not in environ


def test_malformed_header_that_is_not_trusted_is_removed_not_refused(make_environ):
    policy = ProxyPolicy.from_options(
        trusted_proxy="10.0.0.1", trusted_proxy_headers="x-forwarded-proto"
    )
    environ = make_environ("10.0.0.1", HTTP_X_FORWARDED_FOR=MARK, HTTP_X_FORWARDED_PROTO="https")
    policy.apply(environ)
    assert environ["wsgi.url_scheme"] == "https"
    assert "HTTP_X_FORWARDED_FOR" not in environ


def test_middleware_logs_the_header_and_peer_not_the_value(call, echo_app, make_environ, caplog):
    app = proxy_headers_middleware(
        echo_app, trusted_proxy="10.0.0.1", trusted_proxy_headers="x-forwarded-for"
    )
    with caplog.at_level(logging.WARNING, logger="bastion.proxy"):
        call(app, make_environ("10.0.0.1", HTTP_X_FORWARDED_FOR=f"{MARK}.example"))
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    message = caplog.records[0].getMessage()
    assert "X-Forwarded-For" in message and "10.0.0.1" in message
    assert MARK not in message


def test_log_untrusted_names_peer_and_headers_never_values(make_environ, caplog):
    policy = ProxyPolicy.from_options(
        trusted_proxy="10.0.0.1", trusted_proxy_headers="x-forwarded-for", log_untrusted=True
    )
    environ = make_environ(
        "192.0.2.44", HTTP_X_FORWARDED_FOR=MARK, HTTP_X_CLIENT_IP=MARK, HTTP_FORWARDED=MARK
    )
    with caplog.at_level(logging.WARNING, logger="bastion.proxy"):
        policy.apply(environ)
    message = caplog.records[-1].getMessage()
    assert message == (
        "Removed untrusted proxy headers from 192.0.2.44: Forwarded, X-Client-IP, X-Forwarded-For"
    )


def test_log_untrusted_from_a_trusted_peer_logs_the_original_peer(make_environ, caplog):
    policy = ProxyPolicy.from_options(
        trusted_proxy="10.0.0.1", trusted_proxy_headers="x-real-ip", log_untrusted=True
    )
    environ = make_environ("10.0.0.1", HTTP_X_REAL_IP="192.0.2.1", HTTP_X_CLIENT_IP=MARK)
    with caplog.at_level(logging.WARNING, logger="bastion.proxy"):
        policy.apply(environ)
    assert caplog.records[-1].getMessage() == (
        "Removed untrusted proxy headers from 10.0.0.1: X-Client-IP"
    )


def test_log_untrusted_with_clear_off_says_ignored(make_environ, caplog):
    policy = ProxyPolicy.from_options(
        trusted_proxy="10.0.0.1",
        trusted_proxy_headers="x-forwarded-for",
        log_untrusted=True,
        clear_untrusted=False,
    )
    environ = make_environ("", HTTP_X_FORWARDED_HOST=MARK)
    environ["bastion.peer"] = "unix"
    with caplog.at_level(logging.WARNING, logger="bastion.proxy"):
        policy.apply(environ)
    assert caplog.records[-1].getMessage() == (
        "Ignored untrusted proxy headers from unix socket: X-Forwarded-Host"
    )
    assert environ["HTTP_X_FORWARDED_HOST"] == MARK


def test_nothing_is_logged_when_log_untrusted_is_off(policy, make_environ, caplog):
    with caplog.at_level(logging.DEBUG, logger="bastion.proxy"):
        policy.apply(make_environ("192.0.2.44", HTTP_X_FORWARDED_FOR="192.0.2.1"))
    assert caplog.records == []
