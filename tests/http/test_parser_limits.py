"""Limits as parameters, each with its status (issue item 3), exactly at their boundaries."""

from __future__ import annotations

import pytest

from bastion.http import (
    NEED_DATA,
    HeaderFieldsTooLarge,
    Limits,
    RequestParser,
    URITooLong,
)

SMALL_LINE = Limits(max_request_line=40)
SMALL_HEAD = Limits(max_header_size=300)


def request_line(length: int) -> bytes:
    line = b"GET /" + b"a" * (length - len(b"GET / HTTP/1.1")) + b" HTTP/1.1"
    assert len(line) == length
    return line


def test_request_line_at_limit_is_fine(ok, msg):
    """max_request_line counts the line without its CRLF; the limit itself passes."""
    limits = Limits(max_request_line=100)
    assert ok(msg(request_line(100), b"Host: a"), limits)[0][0] == "request"


def test_request_line_over_limit_is_414(bad, msg):
    """RFC 9110 15.5.15: a request line longer than the limit is 414."""
    assert bad(msg(request_line(101), b"Host: a"), Limits(max_request_line=100)) == 414


def test_long_request_line_is_refused_before_it_ends():
    """414 as soon as the limit is passed, without waiting for a CRLF that may never come."""
    parser = RequestParser(Limits(max_request_line=100))
    parser.feed(b"GET /" + b"a" * 96)
    assert parser.next_event() is NEED_DATA
    parser.feed(b"a" * 10)
    with pytest.raises(URITooLong):
        parser.next_event()


def test_head_at_limit_is_fine(ok):
    """max_header_size counts the whole head, request line to the blank line included."""
    head = b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"b" * 10 + b"\r\n\r\n"
    assert ok(head, Limits(max_header_size=len(head)))[0][6]["x"] == "b" * 10


def test_head_over_limit_is_431(bad):
    """RFC 6585 5: a header section over the limit is 431."""
    head = b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"b" * 10 + b"\r\n\r\n"
    assert bad(head, Limits(max_header_size=len(head) - 1)) == 431


def test_big_head_is_refused_before_it_ends():
    """431 as soon as buffered head bytes reach the limit without a blank line."""
    parser = RequestParser(Limits(max_header_size=200))
    parser.feed(b"GET / HTTP/1.1\r\nHost: a\r\n")
    assert parser.next_event() is NEED_DATA
    with pytest.raises(HeaderFieldsTooLarge):
        for _ in range(100):
            parser.feed(b"X-Filler: 0123456789\r\n")
            assert parser.next_event() is NEED_DATA


def test_long_line_inside_big_head_is_still_414():
    """A request line over its limit is 414 even when the whole head is also over its own."""
    limits = Limits(max_request_line=50, max_header_size=60)
    parser = RequestParser(limits)
    parser.feed(b"GET /" + b"a" * 100 + b" HTTP/1.1\r\nHost: a\r\n\r\n")
    with pytest.raises(URITooLong):
        parser.next_event()


def test_pipelined_bytes_do_not_count_against_the_head():
    """Bytes after a complete head (its body, the next request) never make it 431."""
    first = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    parser = RequestParser(Limits(max_header_size=len(first)))
    parser.feed(first + first + b"X" * 10)
    events = [parser.next_event() for _ in range(4)]
    assert [type(e).__name__ for e in events] == ["Request", "EndOfMessage"] * 2


def test_default_limits_match_waitress():
    """Defaults mirror waitress 3.0 (max_request_header_size 262144, body 1 GiB)."""
    limits = Limits()
    assert (limits.max_header_size, limits.max_body_size) == (262144, 1073741824)
    assert limits.max_request_line > 0 and limits.max_header_fields > 0


@pytest.mark.parametrize(
    ("limits", "data", "status"),
    [
        (Limits(max_request_line=20), b"GET /" + b"x" * 30 + b" HTTP/1.1\r\n\r\n", 414),
        (Limits(max_header_size=40), b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"y" * 40, 431),
        (Limits(max_header_fields=1), b"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n", 431),
        (
            Limits(max_body_size=2),
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
            413,
        ),
        (
            Limits(max_chunk_extension=3),
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;abcd\r\n",
            400,
        ),
        (
            Limits(max_trailer_size=8),
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"0\r\nX: abcdefg\r\n\r\n",
            400,
        ),
    ],
)
def test_each_limit_answers_with_its_status(bad, limits, data, status):
    """Issue item 3: 414, 431, 431, 413, 400, 400."""
    assert bad(data, limits) == status


@pytest.mark.parametrize(
    ("data", "limits", "status"),
    [
        # A bare LF after a 505 version: bytewise meets the LF before the head ends.
        (b"GET / HTTP/0.1\r\n\nHost: a\r\n\r\n", Limits(), 400),
        # A bare CR first, in a head over the size limit: the CR is met first.
        (b"\rGET / HTTP/1.1\r\nHost: a\r\nX: " + b"y" * 400 + b"\r\n\r\n", Limits(), 400),
        (b"\rGET / HTTP/1.1\r\nHost: a\r\nX: " + b"y" * 400 + b"\r\n\r\n", SMALL_HEAD, 400),
        # An overlong request line is met before a later bare LF...
        (b"GET /" + b"a" * 80 + b" HTTP/1.1\r\nX: a\nb\r\n\r\n", SMALL_LINE, 414),
        # ...and a bare LF inside the line before its limit is passed.
        (b"GET /a\nb" + b"a" * 80 + b" HTTP/1.1\r\n\r\n", SMALL_LINE, 400),
        # Too many fields only shows when the head is complete: a bare CR wins.
        (b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\rx\r\n\r\n", Limits(max_header_fields=1), 400),
    ],
    ids=[
        "lf-vs-505",
        "cr-vs-431-default",
        "cr-vs-431-small",
        "414-vs-lf",
        "lf-vs-414",
        "cr-vs-fields",
    ],
)
def test_error_is_the_same_for_any_split(engine, data, limits, status):
    """Issue 2 and 4: whole, bytewise and line-wise feeds fail with the same status
    (regressions found by the fuzz run: whole heads used to answer 505 or 431 where a
    byte-at-a-time feed had already answered 400)."""
    for pieces in ([data], engine.split(data, 1), engine.split(data, 5), engine.lines(data)):
        _, error = engine.run(pieces, limits)
        assert error is not None and error.status == status
