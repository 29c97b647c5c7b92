"""Whole request heads parsed once are remembered: a repeat gets the very same Request."""

from __future__ import annotations

import pytest

from bastion.http import Caches, Limits, ProtocolError, RequestParser
from bastion.http import head as head_module
from bastion.http.errors import ContentTooLarge, HeaderFieldsTooLarge

HEAD = "GET /memo?q=1 HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\nX-One: 1\r\n\r\n"
HEADS = Caches.REQUEST_HEADS


@pytest.fixture
def caches() -> Caches:
    return Caches()


def parse(head: str, limits: Limits, caches: Caches):
    return head_module.parse_head(head, limits, caches)


def test_a_repeated_head_gives_the_request_it_gave_before(caches):
    limits = Limits()
    first = parse(HEAD, limits, caches)
    assert HEAD in caches.request_heads
    assert parse(HEAD, limits, caches) is first
    assert first.headers == {"host": "a.example", "accept": "*/*", "x-one": "1"}


def test_each_caches_remembers_its_own_heads(caches):
    """Two servers (two Caches) in one process share nothing."""
    limits = Limits()
    first = parse(HEAD, limits, caches)
    other = Caches()
    again = parse(HEAD, limits, other)
    assert again is not first and again.headers == first.headers
    assert parse(HEAD, limits, other) is again


def test_parsers_share_the_caches_they_are_given(caches):
    """A server's connections share its Caches; a parser given none keeps a private one."""
    data = HEAD.encode("latin-1")
    limits = Limits()
    events = []
    for parser in (RequestParser(limits, caches), RequestParser(limits, caches)):
        parser.feed(data)
        events.append(parser.next_event())
    assert events[0] is events[1]
    alone = RequestParser(limits)
    alone.feed(data)
    assert alone.next_event() is not events[0]


def test_a_near_copy_of_a_remembered_head_is_checked_on_its_own(caches):
    limits = Limits()
    parse(HEAD, limits, caches)
    near_copies = (
        HEAD.replace("X-One: 1", "X-One: 1\x00"),
        HEAD.replace("X-One: 1", "X-One : 1"),
        HEAD.replace("Host: a.example", "Host: a.example\r\nHost: b.example"),
        HEAD.replace("HTTP/1.1", "HTTP/1.2"),
    )
    for bad in near_copies:
        with pytest.raises(ProtocolError):
            parse(bad, limits, caches)


def test_a_head_remembered_under_one_set_of_limits_is_checked_again_under_another(caches):
    generous = Limits()
    parse(HEAD, generous, caches)
    with pytest.raises(HeaderFieldsTooLarge):
        parse(HEAD, Limits(max_header_fields=2), caches)
    post = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n"
    parse(post, generous, caches)
    with pytest.raises(ContentTooLarge):
        parse(post, Limits(max_body_size=99), caches)


def test_refused_and_long_heads_are_not_remembered(caches):
    limits = Limits()
    with pytest.raises(ProtocolError):
        parse("GET / HTTP/1.1\r\n\r\n", limits, caches)  # no Host
    pad = "p" * (HEADS.entry_size // 4)
    long_head = f"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: {pad}\r\n\r\n"
    parse(long_head, limits, caches)
    assert caches.request_heads == {}


def test_the_memo_stays_bounded(caches):
    limits = Limits()
    for n in range(HEADS.entries * 2 + 3):
        parse(f"GET /{n} HTTP/1.1\r\nHost: a\r\n\r\n", limits, caches)
        assert len(caches.request_heads) <= HEADS.entries
    assert "GET /514 HTTP/1.1\r\nHost: a\r\n\r\n" in caches.request_heads
