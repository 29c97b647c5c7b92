"""Property: any header values only ever raise MalformedProxyHeader, and leave a sane environ."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.proxy_headers import (
    ALL_PROXY_HEADERS,
    KNOWN_PROXY_HEADERS,
    MalformedProxyHeader,
    ProxyPolicy,
)

# Fragments of the grammars involved, so that examples reach past the first check.
FRAGMENTS = [
    "for=",
    "by=",
    "host=",
    "proto=",
    "For=",
    "192.0.2.1",
    "10.0.0.7",
    "::1",
    "2001:db8::1",
    "[",
    "]",
    ":",
    ":80",
    ":_p",
    '"',
    "\\",
    ",",
    ", ",
    ";",
    "=",
    " ",
    "\t",
    "_hidden",
    "unknown",
    "http",
    "https",
    "HTTPS",
    "on",
    "off",
    "1",
    "example.com",
    "/app",
    "%2F",
    "%",
    "..",
    "/",
    "65535",
    "0",
    "\x00",
    "\x7f",
    "\xe9",
    "ü",
    "٣",
]
values = st.one_of(
    st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=40),
    st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join),
)
headers = st.dictionaries(st.sampled_from(sorted(ALL_PROXY_HEADERS)), values, max_size=6)

POLICIES = [
    ProxyPolicy.from_options(trusted_proxy="*", trusted_proxy_headers=KNOWN_PROXY_HEADERS),
    ProxyPolicy.from_options(
        trusted_proxy="10.0.0.0/8, ::1",
        trusted_proxy_count=3,
        trusted_proxy_headers=KNOWN_PROXY_HEADERS,
    ),
    ProxyPolicy.from_options(
        trusted_proxy="10.0.0.0/8, ::1",
        trusted_proxy_headers=KNOWN_PROXY_HEADERS,
        trusted_proxy_mode="walk",
    ),
]


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("policy", POLICIES, ids=["any-count1", "nets-count3", "nets-walk"])
@settings(
    max_examples=400,
    deadline=None,
    # make_environ is a pure function: nothing to reset between examples.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(sent=headers)
def test_only_malformed_proxy_header_escapes(policy, sent, make_environ):
    environ = make_environ("10.0.0.1", **{"HTTP_" + key: value for key, value in sent.items()})
    before = dict(environ)
    try:
        policy.apply(environ)
    except MalformedProxyHeader as error:
        assert environ == before
        assert error.header.lower() in KNOWN_PROXY_HEADERS
        assert error.value in sent.values()
        return
    assert is_ip(environ["REMOTE_ADDR"])
    assert environ["REMOTE_HOST"] == environ["REMOTE_ADDR"]
    assert environ["wsgi.url_scheme"] in ("http", "https")
    assert environ["SERVER_PORT"].isdigit() and 0 < int(environ["SERVER_PORT"]) < 65536
    assert environ["SCRIPT_NAME"] == "" or environ["SCRIPT_NAME"].startswith("/")
    host = environ["HTTP_HOST"]
    assert host.isascii() and " " not in host and "/" not in host
