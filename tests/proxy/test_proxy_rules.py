"""bastion.proxy.rules: the rules between the trusted-proxy options, one function each,
and the middleware API and the configuration meeting the same ones."""

from __future__ import annotations

import warnings

import pytest

from bastion.config import Config
from bastion.errors import ConfigError
from bastion.proxy import rules
from bastion.proxy_headers import ProxyPolicy, proxy_headers_middleware

XFF = frozenset({"x-forwarded-for"})


def test_headers_without_a_proxy_imply_local():
    assert rules.implied_trusted_proxy(None, XFF) == ("local",)
    assert rules.implied_trusted_proxy(None, frozenset()) is None
    assert rules.implied_trusted_proxy(("10.0.0.0/8",), XFF) == ("10.0.0.0/8",)


@pytest.mark.parametrize("proxy", [("*",), None, ("10.0.0.0/8",)])
def test_walk_needs_listed_proxies(proxy):
    rules.check_mode(proxy, "count")
    if proxy == ("*",):
        with pytest.raises(rules.Conflict) as info:
            rules.check_mode(proxy, "walk")
        assert info.value.option == "trusted_proxy_mode"
        assert isinstance(info.value, ValueError)
    else:
        rules.check_mode(proxy, "walk")


def test_proxy_protocol_rules():
    rules.check_proxy_protocol(("local",), True, True)
    rules.check_proxy_protocol(None, False, False)
    with pytest.raises(rules.Conflict) as info:
        rules.check_proxy_protocol(None, True, False)
    assert info.value.option == "proxy_protocol"
    with pytest.raises(rules.Conflict) as info:
        rules.check_proxy_protocol(("local",), False, True)
    assert info.value.option == "proxy_protocol_headers"


@pytest.mark.parametrize(
    ("proxy_protocol", "proxy_protocol_headers", "apply"),
    [(False, False, True), (True, True, True), (True, False, False)],
)
def test_headers_apply_unless_the_preamble_alone_counts(
    proxy_protocol, proxy_protocol_headers, apply
):
    assert rules.headers_apply(proxy_protocol, proxy_protocol_headers) is apply


def test_preamble_only_drops_headers_and_warns_only_when_some_were_named():
    with pytest.warns(UserWarning, match="trusted_proxy_headers are ignored"):
        assert rules.preamble_only_headers(XFF) == frozenset()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rules.preamble_only_headers(frozenset()) == frozenset()


def test_serve_default_headers():
    with pytest.warns(DeprecationWarning, match="implicitly trusting X-Forwarded-Proto"):
        assert rules.serve_default_headers(("local",), frozenset()) == {"x-forwarded-proto"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rules.serve_default_headers(("local",), XFF) == XFF
        assert rules.serve_default_headers(None, frozenset()) == frozenset()


def test_one_message_for_the_api_and_the_configuration():
    options = {"trusted_proxy": "*", "trusted_proxy_headers": "forwarded"}
    with pytest.raises(ValueError) as api:
        ProxyPolicy.from_options(**options, trusted_proxy_mode="walk")
    with pytest.raises(ValueError) as middleware:
        proxy_headers_middleware(lambda e, s: [], **options, trusted_proxy_mode="walk")
    with pytest.raises(ConfigError) as config:
        Config.from_kwargs(**options, trusted_proxy_mode="walk")
    assert str(api.value) == str(middleware.value) == str(config.value)


def test_headers_without_a_proxy_mean_local_everywhere():
    policy = ProxyPolicy.from_options(trusted_proxy_headers="x-forwarded-for")
    config = Config.from_kwargs(trusted_proxy_headers="x-forwarded-for")
    assert config.trusted_proxy == ("local",)
    assert policy.peers.unix and not policy.peers.any
    assert policy.peers.networks == ProxyPolicy.from_options(trusted_proxy="local").peers.networks
