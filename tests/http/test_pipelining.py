"""Pipelining (RFC 9112 9.3.2), parser state between requests, and the dead-after-error rule."""

from __future__ import annotations

import pytest

from bastion.http import (
    CONNECTION_CLOSED,
    NEED_DATA,
    BadRequest,
    Data,
    EndOfMessage,
    ProtocolError,
    Request,
    RequestParser,
)

GET = b"GET /%d HTTP/1.1\r\nHost: example.com\r\n\r\n"
POST = b"POST /p HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\r\nabc"
CHUNKED = (
    b"POST /c HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"2\r\nhi\r\n0\r\n\r\n"
)


def test_requests_in_one_buffer_come_out_in_order(ok):
    """RFC 9112 9.3.2: a server MUST process pipelined requests in the order received."""
    stream = GET % 1 + POST + CHUNKED + GET % 2
    events = ok(stream)
    assert [(e[0], e[2]) if e[0] == "request" else e[0] for e in events] == [
        ("request", "/1"),
        "end",
        ("request", "/p"),
        "data",
        "end",
        ("request", "/c"),
        "data",
        "end",
        ("request", "/2"),
        "end",
    ]


def test_bytes_after_a_request_stay_buffered():
    """Issue 5: the bytes after a request stay for the next; ``buffered`` counts them."""
    parser = RequestParser()
    tail = b"GET /next HT"
    parser.feed(GET % 1 + tail)
    assert type(parser.next_event()) is Request
    assert parser.buffered == len(tail)
    assert type(parser.next_event()) is EndOfMessage
    assert parser.at_message_boundary
    assert parser.next_event() is NEED_DATA
    assert parser.buffered == len(tail)
    parser.feed(b"TP/1.1\r\nHost: h\r\n\r\n")
    request = parser.next_event()
    assert type(request) is Request and request.target == "/next"
    assert parser.buffered == 0


def test_at_message_boundary_only_between_requests():
    """``at_message_boundary`` is False from a head until its EndOfMessage has been taken."""
    parser = RequestParser()
    assert parser.at_message_boundary
    parser.feed(POST)
    assert type(parser.next_event()) is Request
    assert not parser.at_message_boundary
    assert type(parser.next_event()) is Data
    assert not parser.at_message_boundary
    assert type(parser.next_event()) is EndOfMessage
    assert parser.at_message_boundary


def test_clean_close_between_requests():
    """EOF at a message boundary is CONNECTION_CLOSED, repeatedly, not an error."""
    parser = RequestParser()
    parser.feed(GET % 1)
    parser.feed_eof()
    assert type(parser.next_event()) is Request
    assert type(parser.next_event()) is EndOfMessage
    assert parser.next_event() is CONNECTION_CLOSED
    assert parser.next_event() is CONNECTION_CLOSED


def test_close_after_only_empty_lines_is_clean():
    """RFC 9112 2.2: empty lines before a request are ignored, so EOF after them is clean."""
    parser = RequestParser()
    parser.feed(b"\r\n\r\n")
    parser.feed_eof()
    assert parser.next_event() is CONNECTION_CLOSED


@pytest.mark.parametrize("cut", [b"G", b"GET / HTTP/1.1\r\n", b"GET / HTTP/1.1\r\nHost: a\r\n\r"])
def test_close_inside_a_head_is_an_error(engine, cut):
    """A head cut short by EOF is incomplete: 400 (the server answers or just closes)."""
    events, error = engine.run([cut])
    assert events == [] and error is not None and error.status == 400


def test_feeding_after_eof_is_a_caller_bug():
    """``feed`` after ``feed_eof`` is a programming error, not a protocol one."""
    parser = RequestParser()
    parser.feed_eof()
    with pytest.raises(RuntimeError):
        parser.feed(b"x")


def test_after_an_error_no_further_bytes_are_parsed():
    """Issue 4: after a framing error the engine never parses more from the connection."""
    parser = RequestParser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
    with pytest.raises(BadRequest) as first:
        parser.next_event()
    parser.feed(GET % 1)
    for _ in range(3):
        with pytest.raises(ProtocolError) as again:
            parser.next_event()
        assert again.value is first.value
    assert not parser.at_message_boundary


def test_error_after_a_valid_request_keeps_the_valid_one():
    """A request before the faulty one is delivered whole; then the error, then nothing."""
    parser = RequestParser()
    parser.feed(GET % 1 + b"GET / HTTP/1.1\r\nHost : a\r\n\r\n" + GET % 2)
    assert parser.next_event().target == "/1"
    assert type(parser.next_event()) is EndOfMessage
    with pytest.raises(BadRequest):
        parser.next_event()
    with pytest.raises(BadRequest):
        parser.next_event()


def test_data_before_a_chunked_fault_is_delivered_first():
    """Valid body bytes before a fault come out as Data whatever the split; then the error."""
    stream = CHUNKED.replace(b"0\r\n\r\n", b"zz\r\n")
    for step in (None, 1, 3):
        parser = RequestParser()
        pieces = (
            [stream]
            if step is None
            else [stream[i : i + step] for i in range(0, len(stream), step)]
        )
        data = b""
        with pytest.raises(BadRequest):
            for piece in pieces:
                parser.feed(piece)
                for _ in range(100):
                    event = parser.next_event()
                    if event is NEED_DATA:
                        break
                    if type(event) is Data:
                        data += event.data
        assert data == b"hi"


def test_large_pipeline_parses_every_request():
    """Hundreds of requests in one buffer all come out, and the buffer ends empty."""
    parser = RequestParser()
    parser.feed((GET % 7) * 500)
    count = 0
    for _ in range(2000):
        event = parser.next_event()
        if event is NEED_DATA:
            break
        count += type(event) is Request
    assert count == 500 and parser.buffered == 0
