"""The RFC 7239 Forwarded grammar: elements, pairs, quoted strings, nodes."""

from __future__ import annotations

import pytest

from bastion.proxy.forwarded import InvalidValue, Node, parse_forwarded, parse_node
from bastion.proxy_headers import Forwarded, MalformedProxyHeader, ProxyPolicy


def elements(value: str) -> list[Forwarded]:
    return [element for element, _ in parse_forwarded(value)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("for=192.0.2.60", [Forwarded("", "192.0.2.60", "", "")]),
        (
            "for=192.0.2.60;proto=http;by=203.0.113.43",
            [Forwarded("203.0.113.43", "192.0.2.60", "", "http")],
        ),
        ('For="[2001:db8:cafe::17]:4711"', [Forwarded("", "[2001:db8:cafe::17]:4711", "", "")]),
        (
            "for=192.0.2.43, for=198.51.100.17",
            [("", "192.0.2.43", "", ""), ("", "198.51.100.17", "", "")],
        ),
        ("for=unknown", [Forwarded("", "unknown", "", "")]),
        ("for=_hidden, for=_SEVKISEK", [("", "_hidden", "", ""), ("", "_SEVKISEK", "", "")]),
        # Quoted strings may hold commas, semicolons and escaped quotes.
        ('host="a,b;c";ext="x\\"y"', [Forwarded("", "", "a,b;c", "")]),
        ('for="192.0.2.1";PROTO="HTTPS"', [Forwarded("", "192.0.2.1", "", "HTTPS")]),
        # Empty list elements and empty pairs are allowed (RFC 9110 5.6.1, RFC 7239 4).
        (", ,for=192.0.2.1,,", [Forwarded("", "192.0.2.1", "", "")]),
        ("for=192.0.2.1;;proto=http;", [Forwarded("", "192.0.2.1", "", "http")]),
        ("for=192.0.2.1 ,\tfor=192.0.2.2", [("", "192.0.2.1", "", ""), ("", "192.0.2.2", "", "")]),
        ("", []),
        ("unknownparam=1", [Forwarded("", "", "", "")]),
    ],
)
def test_valid_syntax(value, expected):
    assert elements(value) == [Forwarded(*item) for item in expected]


@pytest.mark.parametrize(
    "value",
    [
        "for",
        "for=",
        "for = 192.0.2.1",
        "for= 192.0.2.1",
        "for=192.0.2.1 ;proto=http",
        "for=192.0.2.1; proto=http",
        "for=[2001:db8::1]",  # brackets are not token characters: must be quoted
        "for=192.0.2.1:80",  # nor is ":"
        'for="192.0.2.1',
        'for="192.0.2.1"x',
        "for=192.0.2.1;for=192.0.2.2",  # a parameter at most once per element
        "for=a b",
        "=x",
        'for="a\\',
    ],
)
def test_invalid_syntax(value):
    with pytest.raises(InvalidValue):
        parse_forwarded(value)


def test_element_offsets_point_into_the_value():
    value = 'for=a,  for="b,c";host=x'
    assert [offset for _, offset in parse_forwarded(value)] == [0, 8]


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("192.0.2.43", Node("192.0.2.43", None)),
        ("192.0.2.43:47011", Node("192.0.2.43", "47011")),
        ("[2001:db8:cafe::17]", Node("2001:db8:cafe::17", None)),
        ("[2001:DB8:cafe::17]:4711", Node("2001:db8:cafe::17", "4711")),
        ("unknown", Node(None, None)),
        ("UNKNOWN:80", Node(None, "80")),
        ("_hidden", Node(None, None)),
        ("_a.b-c_d:_port", Node(None, None)),
        ("192.0.2.43:_obf", Node("192.0.2.43", None)),
    ],
)
def test_nodes(text, node):
    assert parse_node(text) == node


@pytest.mark.parametrize(
    "text",
    ["2001:db8::1", "[2001:db8::1", "[192.0.2.1]", "host.example", "_", "192.0.2.1:0", "1.2.3.4:x"],
)
def test_invalid_nodes(text):
    with pytest.raises(InvalidValue):
        parse_node(text)


@pytest.fixture
def forwarded_policy():
    return ProxyPolicy.from_options(trusted_proxy="10.0.0.1", trusted_proxy_headers="forwarded")


@pytest.mark.parametrize(
    ("value", "remote_addr", "remote_port"),
    [
        ('for="[2001:db8::1]:4711"', "2001:db8::1", "4711"),
        ('for="192.0.2.7:8080";proto=https', "192.0.2.7", "8080"),
        ("for=unknown", "10.0.0.1", "50000"),
        ("for=_hidden;proto=https", "10.0.0.1", "50000"),
        ("proto=https", "10.0.0.1", "50000"),
    ],
)
def test_client_from_forwarded(value, remote_addr, remote_port, forwarded_policy, make_environ):
    environ = make_environ("10.0.0.1", HTTP_FORWARDED=value)
    forwarded_policy.apply(environ)
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == (remote_addr, remote_port)


def test_several_header_lines_are_one_list(forwarded_policy, make_environ):
    """A server joins repeated lines with ", "; the last element is the nearest proxy's."""
    lines = ["for=192.0.2.1;host=example.com;proto=https", 'for="[2001:db8::5]"']
    environ = make_environ("10.0.0.1", HTTP_FORWARDED=", ".join(lines))
    forwarded_policy.apply(environ)
    assert environ["REMOTE_ADDR"] == "2001:db8::5"
    assert environ["HTTP_FORWARDED"] == 'for="[2001:db8::5]"'
    # Only the trusted (last) element counts: host and proto of the first are ignored.
    assert (environ["HTTP_HOST"], environ["wsgi.url_scheme"]) == ("localhost:8080", "http")


def test_by_must_be_a_node(forwarded_policy, make_environ):
    environ = make_environ("10.0.0.1", HTTP_FORWARDED="for=192.0.2.1;by=not/a/node")
    with pytest.raises(MalformedProxyHeader):
        forwarded_policy.apply(environ)


def test_syntax_is_checked_even_outside_the_trusted_elements(forwarded_policy, make_environ):
    environ = make_environ("10.0.0.1", HTTP_FORWARDED="for=((, for=192.0.2.1")
    with pytest.raises(MalformedProxyHeader) as raised:
        forwarded_policy.apply(environ)
    assert raised.value.reason == "invalid forwarded-element syntax"
