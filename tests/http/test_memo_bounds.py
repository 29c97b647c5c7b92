"""Issue 9 point 3: every memo stays within its stated bound in bytes under hostile input.

The memos are measured directly: the length of every string reachable from their keys
and values, counted once per reference (so shared strings count as often as they are
held), renderings remembered on a response head included.  The flood tests send 1,100
unique 200 KB values (more entries than any memo holds), check the bound, then check
that a short value is still remembered; the size-limit tests fill a memo with the
largest entries it takes, so the stated bounds are shown to be real upper bounds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bastion import trusted_hosts
from bastion.http import Caches, Limits, Request
from bastion.http import head as head_module
from bastion.http.memo import Bound
from bastion.http.response import check_response, render_head
from bastion.proxy import peers as peers_module
from bastion.wsgi.environ import EnvironTemplate

FLOOD = 1100
BIG = 200_000
DATE = "Sun, 06 Nov 1994 08:49:37 GMT"


def text(obj: Any) -> int:
    """Characters of text in ``obj``: strings, and what containers and slots hold."""
    if isinstance(obj, str):
        return len(obj)
    if isinstance(obj, dict):
        return sum(text(key) + text(value) for key, value in obj.items())
    if isinstance(obj, tuple | list):
        return sum(text(item) for item in obj)
    slots = getattr(type(obj), "__slots__", ())
    return sum(text(getattr(obj, name, None)) for name in slots)


def within(memo: dict[Any, Any], bound: Bound) -> bool:
    return len(memo) <= bound.entries and text(memo) <= bound.total


def unique(n: int, size: int = BIG, alphabet: str = "abcdef") -> str:
    """A ``size``-character string of ``alphabet``, different for every ``n``."""
    tag = format(n, "x").translate(str.maketrans("0123456789", "ghijklmnop"))
    return (tag + "-" + alphabet * (size // len(alphabet)))[:size]


def flood(count: int = FLOOD) -> Iterator[int]:
    return iter(range(count))


@pytest.fixture
def caches() -> Caches:
    return Caches()


def request_with(name: str) -> Request:
    return Request("GET", "/", "/", "", "HTTP/1.1", {name: "1"}, 0, False, True, False, None)


def test_environ_keys_for_long_header_names_are_not_remembered(caches):
    """1,100 unique 200 KB header names: the key memo stays within 1,024 x 256 bytes."""
    template = EnvironTemplate(
        server_name="s",
        server_port="80",
        url_scheme="http",
        url_prefix="",
        server_software="bastion",
        file_wrapper=None,
        caches=caches,
    )
    memo = caches.environ_keys
    for n in flood():
        name = unique(n)
        environ = template.build(request_with(name), "1.2.3.4", "1", None, 0)
        assert environ["HTTP_" + name.upper().replace("-", "_")] == "1"
    assert within(memo, Caches.ENVIRON_KEYS)
    assert template.build(request_with("x-short"), "1.2.3.4", "1", None, 0)["HTTP_X_SHORT"]
    assert memo["x-short"] == "HTTP_X_SHORT"


def test_request_memos_hold_no_long_line_host_or_head(caches):
    """Long unique request lines, Hosts and header lines: each request memo in bound."""
    limits = Limits(max_request_line=BIG + 100, max_header_size=4 * BIG)
    for n in flood():
        big = unique(n)
        head = f"GET /{big} HTTP/1.1\r\nHost: {big}\r\nX-Request-ID: {big}\r\n\r\n"
        request = head_module.parse_head(head, limits, caches)
        assert request.headers["host"] == big
    memos = {
        "lines": (caches.header_lines, Caches.HEADER_LINES),
        "hosts": (caches.hosts, Caches.HOSTS),
        "request lines": (caches.request_lines, Caches.REQUEST_LINES),
        "heads": (caches.request_heads, Caches.REQUEST_HEADS),
    }
    assert {name: within(*memo) for name, memo in memos.items()} == dict.fromkeys(memos, True)
    short = "GET /short HTTP/1.1\r\nHost: short.example\r\nX-Short: 1\r\n\r\n"
    head_module.parse_head(short, limits, caches)
    assert short in caches.request_heads
    assert "GET /short HTTP/1.1" in caches.request_lines
    assert "short.example" in caches.hosts
    assert "X-Short: 1" in caches.header_lines


def test_response_memos_hold_no_echoed_long_header(caches):
    """An app echoing a 200 KB X-Request-ID, name or reason: response memos stay in bound."""
    for n in flood():
        headers = [("X-Request-ID", unique(n)), (unique(n, 1000, "xyz"), "1")]
        head = check_response("200 " + unique(n, 1000), headers, caches)
        render_head(head, "GET", "HTTP/1.1", True, DATE, "bastion", 5)
    assert within(caches.response_names, Caches.RESPONSE_NAMES)
    assert within(caches.response_headers, Caches.RESPONSE_HEADERS)
    assert within(caches.statuses, Caches.STATUSES)
    assert within(caches.response_heads, Caches.RESPONSE_HEADS)
    short = [("X-Request-ID", "short"), ("Content-Length", "0")]
    head = check_response("200 OK", list(short), caches)
    assert check_response("200 OK", list(short), caches) is head
    render_head(head, "GET", "HTTP/1.1", True, DATE, "bastion")
    assert head.rendered is not None and len(head.rendered) == 1
    assert ("X-Request-ID", "short") in caches.response_headers


def test_ipv6_host_literal_memo_holds_no_long_literal(caches):
    """Issue 9: ``[<200 KB of hex>]`` Hosts grew an lru_cache by 54 MB."""
    memo = caches.ipv6_literals
    for n in flood():
        assert trusted_hosts.split_host(f"[{unique(n)}]", caches) is None
        assert trusted_hosts.split_host(f"[{unique(n, 40, '0123456789')}]", caches) is None
    assert within(memo, Caches.IPV6_LITERALS)
    assert trusted_hosts.split_host("[0:0::1]:8080", caches) == ("[::1]", 8080)
    assert memo["0:0::1"] == "[::1]"


def test_trusted_peer_memo_holds_no_long_address():
    """Peer addresses come from sockets and checked headers; the memo is bounded anyway."""
    peers = peers_module.TrustedPeers(["10.0.0.0/8"])
    for n in flood():
        assert not peers.contains(unique(n, 2000))
    assert within(peers._known, peers_module._KNOWN_PEERS)
    assert peers.contains("10.1.2.3") and peers._known["10.1.2.3"] is True


# -- the stated bounds are real upper bounds, at the largest entries each memo takes --------


def test_request_heads_at_the_size_limit_stay_within_the_bound(caches):
    """Absolute-form heads just under 1 KiB: the Request's text is the most a head gives."""
    memo, bound = caches.request_heads, Caches.REQUEST_HEADS
    for n in flood(bound.entries):
        target = "http://" + unique(n, 300) + "/" + unique(n, 300) + "?" + unique(n, 200)
        head = f"GET {target} HTTP/1.1\r\nHost: a\r\nX-A: {unique(n, 100)}\r\n\r\n"
        assert 4 * len(head) <= bound.entry_size
        head_module.parse_head(head, Limits(), caches)
        assert head in memo
    assert len(memo) == bound.entries and within(memo, bound)


def test_response_heads_at_the_size_limit_stay_within_the_bound(caches):
    """Heads just under 2 KiB, each rendered every way a request can ask for."""
    memo, bound = caches.response_heads, Caches.RESPONSE_HEADS
    for n in flood(bound.entries):
        headers = [("X-A", unique(n, 1000)), ("X-B", unique(n, 980))]
        head = check_response("200 OK", headers, caches)
        assert head.rendered is not None
        for method in ("GET", "HEAD"):
            for version in ("HTTP/1.0", "HTTP/1.1"):
                for keep_alive in (True, False):
                    for length in (None, 123456789):
                        render_head(head, method, version, keep_alive, DATE, "bastion", length)
        assert len(head.rendered) == Caches.RENDERINGS.entries
    assert len(memo) == bound.entries and within(memo, bound)


KIB = 1024


@pytest.mark.parametrize(
    ("bound", "total"),
    [
        (Caches.HEADER_LINES, 512 * KIB),
        (Caches.HOSTS, 256 * 255),
        (Caches.REQUEST_LINES, 512 * KIB),
        (Caches.REQUEST_HEADS, 1024 * KIB),
        (Caches.ENVIRON_KEYS, 256 * KIB),
        (Caches.RESPONSE_NAMES, 128 * KIB),
        (Caches.RESPONSE_HEADERS, 2048 * KIB),
        (Caches.STATUSES, 8 * KIB),
        (Caches.RESPONSE_HEADS, 6144 * KIB),
        (Caches.IPV6_LITERALS, 256 * 92),
        (peers_module._KNOWN_PEERS, 64 * KIB),
    ],
    ids=lambda value: str(value) if isinstance(value, int) else "",
)
def test_each_memo_holds_at_most_the_total_docs_security_md_states(bound, total):
    assert bound.total == total
