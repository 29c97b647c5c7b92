"""Option validators, ProxyPolicy.from_options defaults, and waitress's public names."""

from __future__ import annotations

import inspect
import logging
import warnings

import pytest

from bastion.proxy import policy as proxy_headers
from bastion.proxy_headers import (
    PROXY_HEADERS,
    Forwarded,
    MalformedProxyHeader,
    ProxyPolicy,
    parse_proxy_headers,
    proxy_headers_middleware,
    validate_trusted_proxy,
    validate_trusted_proxy_count,
    validate_trusted_proxy_headers,
    validate_trusted_proxy_mode,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("127.0.0.1", ("127.0.0.1/32",)),
        ("10.0.0.1, 10.0.0.0/8", ("10.0.0.1/32", "10.0.0.0/8")),
        (["::1", "[2001:db8::1]"], ("::1/128", "2001:db8::1/128")),
        ({"2001:db8::/32"}, ("2001:db8::/32",)),
        ("*", ("*",)),
        ("LOCAL unix", ("local", "unix")),
    ],
)
def test_validate_trusted_proxy_accepts(value, expected):
    assert validate_trusted_proxy(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("proxy.example", "'proxy.example' is not an IP address, a CIDR network"),
        ("10.0.0.1/8", "host bits"),
        ("10.0.0.0/33", "is not an IP address"),
        ("*, 10.0.0.1", "'*' trusts every peer and cannot be combined"),
        (42, "expected a string or a list of strings"),
        ([b"10.0.0.1"], "expected a string or a list of strings"),
    ],
)
def test_validate_trusted_proxy_refuses(value, message):
    with pytest.raises(ValueError, match=r"^trusted_proxy: ") as raised:
        validate_trusted_proxy(value)
    assert message in str(raised.value)


def test_validate_headers():
    assert validate_trusted_proxy_headers(None) == frozenset()
    assert validate_trusted_proxy_headers("X-Forwarded-For, x-real-ip") == {
        "x-forwarded-for",
        "x-real-ip",
    }
    assert validate_trusted_proxy_headers(["forwarded", "X-Forwarded-Proto"]) == {
        "forwarded",
        "x-forwarded-proto",
    }
    with pytest.raises(ValueError, match=r"^trusted_proxy_headers: unknown header x-evil; ") as e:
        validate_trusted_proxy_headers({"x-evil", "x-forwarded-for"})
    assert "x-client-ip" in str(e.value)


@pytest.mark.parametrize(("value", "expected"), [(1, 1), (3, 3), ("2", 2)])
def test_validate_count_accepts(value, expected):
    assert validate_trusted_proxy_count(value) == expected


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "two", "²", None])
def test_validate_count_refuses(value):
    with pytest.raises(ValueError, match=r"^trusted_proxy_count: expected an integer >= 1"):
        validate_trusted_proxy_count(value)


def test_validate_mode():
    assert validate_trusted_proxy_mode("walk") == "walk"
    with pytest.raises(ValueError, match=r"^trusted_proxy_mode: expected 'count' or 'walk'"):
        validate_trusted_proxy_mode("rightmost")


def test_walk_mode_refuses_any_peer():
    with pytest.raises(ValueError, match=r"^trusted_proxy_mode: 'walk' .* not '\*'"):
        ProxyPolicy.from_options(
            trusted_proxy="*", trusted_proxy_headers="x-forwarded-for", trusted_proxy_mode="walk"
        )


def test_from_options_trusts_no_header_implicitly():
    """serve()'s waitress default (X-Forwarded-Proto) is the configuration's, not the API's:
    tests/config/test_config_model.py has it."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        policy = ProxyPolicy.from_options(trusted_proxy="10.0.0.1")
    assert policy.headers == frozenset()


def test_middleware_trusts_nothing_implicitly(call, echo_app, make_environ):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app = proxy_headers_middleware(echo_app, trusted_proxy="10.0.0.1")
    call(app, make_environ("10.0.0.1", HTTP_X_FORWARDED_PROTO="https"))
    assert echo_app.seen["wsgi.url_scheme"] == "http"
    assert "HTTP_X_FORWARDED_PROTO" not in echo_app.seen


def test_headers_without_trusted_proxy_are_announced_once(caplog):
    with caplog.at_level(logging.INFO, logger="bastion.proxy"):
        ProxyPolicy.from_options(trusted_proxy_headers="x-forwarded-for")
    assert [r.getMessage() for r in caplog.records] == [
        "trusted_proxy_headers set without trusted_proxy: trusting x-forwarded-for only from "
        "loopback and unix-socket peers"
    ]


def test_middleware_signature_is_waitress_s():
    parameters = list(inspect.signature(proxy_headers_middleware).parameters.values())
    positional = [(p.name, p.default) for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == [
        ("app", inspect.Parameter.empty),
        ("trusted_proxy", None),
        ("trusted_proxy_count", 1),
        ("trusted_proxy_headers", None),
        ("clear_untrusted", True),
        ("log_untrusted", False),
        ("logger", proxy_headers.logger),
    ]
    params = inspect.signature(parse_proxy_headers).parameters
    assert list(params) == [
        "environ",
        "trusted_proxy_count",
        "trusted_proxy_headers",
        "logger",
    ]


def test_public_names():
    seed = {
        "X_FORWARDED_FOR",
        "X_FORWARDED_HOST",
        "X_FORWARDED_PROTO",
        "X_FORWARDED_PORT",
        "X_FORWARDED_BY",
        "FORWARDED",
    }
    assert isinstance(PROXY_HEADERS, frozenset)
    assert seed == PROXY_HEADERS
    assert Forwarded._fields == ("by", "for_", "host", "proto")
    error = MalformedProxyHeader("X-Forwarded-For", "not an IP address", "secret")
    assert (error.header, error.reason, error.value) == (
        "X-Forwarded-For",
        "not an IP address",
        "secret",
    )
    assert str(error) == "X-Forwarded-For: not an IP address"


def test_parse_proxy_headers_trusts_the_caller_and_returns_the_untrusted_names():
    environ = {
        "REMOTE_ADDR": "192.0.2.200",
        "wsgi.url_scheme": "http",
        "HTTP_X_FORWARDED_FOR": "198.51.100.1, 192.0.2.1",
        "HTTP_X_FORWARDED_PROTO": "https",
    }
    untrusted = parse_proxy_headers(environ, 1, {"x-forwarded-for", "x-forwarded-proto"})
    assert environ["REMOTE_ADDR"] == "192.0.2.1"
    assert environ["wsgi.url_scheme"] == "https"
    assert "X_FORWARDED_FOR" not in untrusted and "X_FORWARDED_PROTO" not in untrusted
    assert {"FORWARDED", "X_REAL_IP", "X_CLIENT_IP", "X_FORWARDED_HOST"} <= untrusted
    assert "HTTP_X_FORWARDED_PROTO" in environ  # clearing is the caller's job


def test_parse_proxy_headers_raises_on_malformed():
    with pytest.raises(MalformedProxyHeader):
        parse_proxy_headers({"HTTP_X_FORWARDED_PORT": "http"}, 1, {"x-forwarded-port"})
