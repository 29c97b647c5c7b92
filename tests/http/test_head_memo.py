"""Whole request heads parsed once are remembered: a repeat gets a copy, nothing more."""

from __future__ import annotations

import pytest

from bastion.http import Limits, ProtocolError
from bastion.http import head as head_module
from bastion.http.errors import ContentTooLarge, HeaderFieldsTooLarge

HEAD = "GET /memo?q=1 HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\nX-One: 1\r\n\r\n"


@pytest.fixture(autouse=True)
def _empty_memo():
    head_module._seen_heads.clear()
    yield
    head_module._seen_heads.clear()


def fields(request):
    return {name: getattr(request, name) for name in type(request).__slots__}


def test_a_repeated_head_gives_an_equal_request_of_its_own():
    limits = Limits()
    first = head_module.parse_head(HEAD, limits)
    assert HEAD in head_module._seen_heads
    again = head_module.parse_head(HEAD, limits)
    assert again is not first
    assert again.headers is not first.headers
    assert fields(again) == fields(first)
    # What happens to one request (the chunked path rewrites its headers) stays there.
    again.headers["content-length"] = "5"
    del again.headers["x-one"]
    third = head_module.parse_head(HEAD, limits)
    assert third.headers == {"host": "a.example", "accept": "*/*", "x-one": "1"}


def test_a_near_copy_of_a_remembered_head_is_checked_on_its_own():
    limits = Limits()
    head_module.parse_head(HEAD, limits)
    near_copies = (
        HEAD.replace("X-One: 1", "X-One: 1\x00"),
        HEAD.replace("X-One: 1", "X-One : 1"),
        HEAD.replace("Host: a.example", "Host: a.example\r\nHost: b.example"),
        HEAD.replace("HTTP/1.1", "HTTP/1.2"),
    )
    for bad in near_copies:
        with pytest.raises(ProtocolError):
            head_module.parse_head(bad, limits)


def test_a_head_remembered_under_one_set_of_limits_is_checked_again_under_another():
    generous = Limits()
    head_module.parse_head(HEAD, generous)
    with pytest.raises(HeaderFieldsTooLarge):
        head_module.parse_head(HEAD, Limits(max_header_fields=2))
    post = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n"
    head_module.parse_head(post, generous)
    with pytest.raises(ContentTooLarge):
        head_module.parse_head(post, Limits(max_body_size=99))


def test_refused_and_long_heads_are_not_remembered():
    limits = Limits()
    with pytest.raises(ProtocolError):
        head_module.parse_head("GET / HTTP/1.1\r\n\r\n", limits)  # no Host
    pad = "p" * head_module._SEEN_HEAD_MAX
    long_head = f"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: {pad}\r\n\r\n"
    head_module.parse_head(long_head, limits)
    assert head_module._seen_heads == {}


def test_the_memo_stays_bounded():
    limits = Limits()
    for n in range(head_module._SEEN_HEADS.entries * 2 + 3):
        head_module.parse_head(f"GET /{n} HTTP/1.1\r\nHost: a\r\n\r\n", limits)
        assert len(head_module._seen_heads) <= head_module._SEEN_HEADS.entries
    assert "GET /514 HTTP/1.1\r\nHost: a\r\n\r\n" in head_module._seen_heads
