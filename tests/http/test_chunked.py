"""The chunked transfer coding: RFC 9112 section 7.1 (size, extensions, data, trailers)."""

from __future__ import annotations

import pytest

from bastion.http import Limits
from bastion.http.parser import FORBIDDEN_TRAILERS

HEAD = b"POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"


def body_events(events: list) -> list:
    assert events[0][0] == "request" and events[0][8] is True
    return events[1:]


@pytest.mark.parametrize("size", [b"a", b"A", b"00a", b"0000000000000000000a"[-16:]])
def test_chunk_size_is_hex(ok, size):
    """RFC 9112 7.1: chunk-size = 1*HEXDIG, either case, leading zeros allowed."""
    events = ok(HEAD + size + b"\r\n" + b"x" * 10 + b"\r\n0\r\n\r\n")
    assert body_events(events) == [("data", b"x" * 10), ("end", {})]


@pytest.mark.parametrize(
    "size",
    [b"0x5", b"+5", b"-5", b" 5", b"5 ", b"5\t", b"", b"g", b"5_0", b"\xd9\xa5", b"5.0", b"\x005"],
)
def test_chunk_size_not_hexdig_is_400(bad, size):
    """RFC 9112 7.1: 1*HEXDIG only (CVE-2022-24761: int(x, 16) accepted "0x5", "+5", " 5")."""
    assert bad(HEAD + size + b"\r\nhello\r\n0\r\n\r\n") == 400


def test_chunk_size_length_is_bounded(bad):
    """An overlong chunk-size is refused at 17 hex digits, never parsed into a huge int."""
    assert bad(HEAD + b"1" * 17 + b"\r\n") == 400
    assert bad(HEAD + b"f" * 64 + b"\r\nx") == 400


def test_chunk_larger_than_body_limit_is_413(engine):
    """Issue 3: a chunk that would take the body past max_body_size is 413 before its data."""
    events, error = engine.run([HEAD + b"fffffffffffffff\r\n"], Limits(max_body_size=1000))
    assert error is not None and error.status == 413
    assert [e[0] for e in events] == ["request"]


def test_running_total_over_limit_is_413(engine):
    """Issue 3: 413 as soon as the running total passes the limit, the earlier chunks delivered."""
    stream = HEAD + b"6\r\nabcdef\r\n5\r\nghijk\r\n"
    events, error = engine.run([stream], Limits(max_body_size=10))
    assert events[1:] == [("data", b"abcdef")]
    assert error is not None and error.status == 413


def test_running_total_at_limit_is_fine(ok):
    """The limit itself is allowed."""
    stream = HEAD + b"6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n"
    assert body_events(ok(stream, Limits(max_body_size=10)))[0] == ("data", b"abcdefghij")


@pytest.mark.parametrize(
    "ext",
    [
        b";a",
        b";a=b",
        b'; a = "quoted \\" ;value"',
        b';a=b;c;d=""',
        b"\t;\tname\t=\ttoken!",
        b';a="caf\xe9"',
    ],
)
def test_chunk_extensions_are_parsed_and_ignored(ok, ext):
    """RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS token/quoted-string ] )."""
    events = ok(HEAD + b"5" + ext + b"\r\nhello\r\n0" + ext + b"\r\n\r\n")
    assert body_events(events) == [("data", b"hello"), ("end", {})]


@pytest.mark.parametrize(
    "ext",
    [
        b";",
        b";=b",
        b";a=",
        b";a b",
        b";a=b c",
        b';a="unterminated',
        b";a=\x00",
        b";a\x7f",
        b"; a=b\r",
        b";a=b;",
        b"a",
        b";a=@",
        b';a="x\x01"',
    ],
)
def test_malformed_chunk_extension_is_400(bad, ext):
    """RFC 9112 7.1.1; CVE-2022-24761 (waitress discarded extensions unvalidated)."""
    assert bad(HEAD + b"5" + ext + b"\r\nhello\r\n0\r\n\r\n") == 400


def test_chunk_extension_size_is_bounded(bad, ok):
    """Issue 3: chunk extensions larger than max_chunk_extension are 400."""
    limits = Limits(max_chunk_extension=16)
    fits = b";a=" + b"b" * 13
    assert len(fits) == 16
    ok(HEAD + b"5" + fits + b"\r\nhello\r\n0\r\n\r\n", limits)
    assert bad(HEAD + b"5" + fits + b"b\r\nhello\r\n0\r\n\r\n", limits) == 400
    assert bad(HEAD + b"5;a=" + b"b" * 200, limits) == 400


@pytest.mark.parametrize(
    "after", [b"XY0\r\n\r\n", b"\n0\r\n\r\n", b"\r0\r\n\r\n", b"X\r\n0\r\n\r\n", b" \r\n0\r\n\r\n"]
)
def test_crlf_required_after_chunk_data(bad, after):
    """RFC 9112 7.1: chunk = chunk-size [ext] CRLF chunk-data CRLF, exactly."""
    assert bad(HEAD + b"5\r\nhello" + after) == 400


@pytest.mark.parametrize(
    "cut",
    [
        b"",
        b"5",
        b"5\r\n",
        b"5\r\nhel",
        b"5\r\nhello",
        b"5\r\nhello\r",
        b"5\r\nhello\r\n",
        b"5\r\nhello\r\n0\r\n",
        b"5\r\nhello\r\n0\r\n\r",
        b"5\r\nhello\r\n0\r\nX-A: b\r\n",
    ],
)
def test_body_cut_short_is_an_error(engine, cut):
    """Issue: a chunked body cut short before its final CRLF is an error, not a message."""
    for step in (None, 1):
        events, error = engine.run(engine.split(HEAD + cut, step))
        assert error is not None and error.status == 400
        assert ("end", {}) not in events


def test_bare_lf_ending_chunk_size_line_is_400(bad):
    """Bare-LF policy in chunk lines (CVE-2025-22871, Go net/http; "funky chunks", 2025)."""
    assert bad(HEAD + b"5\nhello\r\n0\r\n\r\n") == 400
    assert bad(HEAD + b"5\r\nhello\r\n0\n\r\n") == 400


def test_trailers_are_validated_and_returned(ok):
    """RFC 9112 7.1.2: trailer fields after the last chunk, combined like header fields."""
    events = ok(HEAD + b"5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-A: 1\r\nx-a:  2 \r\n\r\n")
    assert body_events(events) == [
        ("data", b"hello"),
        ("end", {"x-checksum": "abc", "x-a": "1, 2"}),
    ]


def test_trailers_without_data(ok):
    """A chunked body can be empty and still carry trailers."""
    events = ok(HEAD + b"0\r\nX-Sig: s\r\n\r\n")
    assert body_events(events) == [("end", {"x-sig": "s"})]


@pytest.mark.parametrize(
    "trailer",
    [
        b"X-A : b",
        b" X-A: b",
        b"X-A: b\r\n c",
        b"X-A: \x00",
        b"X A: b",
        b"X-A: b\rc",
        b"X-A: b\nX-B: c",
        b"NoColon",
    ],
)
def test_malformed_trailer_is_400(bad, trailer):
    """Issue: trailers are validated like header fields (RFC 9112 5, 7.1.2)."""
    assert bad(HEAD + b"0\r\n" + trailer + b"\r\n\r\n") == 400


@pytest.mark.parametrize(
    "name",
    [
        b"Content-Length",
        b"Transfer-Encoding",
        b"Host",
        b"Connection",
        b"Trailer",
        b"Authorization",
        b"Content-Type",
        b"Cookie",
        b"Expect",
        b"X-Forwarded-For",
    ],
)
def test_forbidden_trailer_fields_are_400(bad, name):
    """RFC 9110 6.5.1: framing, routing, authentication and control fields never in trailers."""
    assert name.decode().lower() in FORBIDDEN_TRAILERS
    assert bad(HEAD + b"5\r\nhello\r\n0\r\n" + name + b": 1\r\n\r\n") == 400


def test_trailer_section_is_bounded(bad, ok):
    """Issue 3: a trailer section over max_trailer_size is 400 (it counts the final CRLF)."""
    limits = Limits(max_trailer_size=20)
    trailer = b"X-A: " + b"b" * 11 + b"\r\n\r\n"
    assert len(trailer) == 20
    ok(HEAD + b"0\r\n" + trailer, limits)
    assert bad(HEAD + b"0\r\nX-A: " + b"b" * 12 + b"\r\n\r\n", limits) == 400
    assert bad(HEAD + b"0\r\nX-A: " + b"b" * 500, limits) == 400


def test_chunk_data_may_hold_anything(ok):
    """Chunk data is opaque: CR, LF, NUL and a fake last-chunk inside it are just bytes."""
    data = b"\r\n0\r\n\r\n\x00\n\r"
    events = ok(HEAD + b"%x\r\n" % len(data) + data + b"\r\n0\r\n\r\n")
    assert body_events(events) == [("data", data), ("end", {})]


def test_many_small_chunks_in_one_read_make_one_data_event(engine):
    """Chunks already buffered are joined: one Data per read, not one per chunk."""
    from bastion.http import Data, RequestParser

    parser = RequestParser()
    parser.feed(HEAD + b"1\r\na\r\n" * 50 + b"0\r\n\r\n")
    parser.next_event()
    event = parser.next_event()
    assert type(event) is Data and event.data == b"a" * 50
