"""Body framing (RFC 9112 section 6), keep-alive (section 9.3) and Expect (RFC 9110 10.1.1)."""

from __future__ import annotations

import pytest

from bastion.http import NEED_DATA, Data, Limits, Request, RequestParser

POST = b"POST /upload HTTP/1.1"
HOST = b"Host: example.com"


def test_content_length_body(ok, msg):
    """RFC 9112 6.2: Content-Length gives the body length; the body comes out as Data."""
    events = ok(msg(POST, HOST, b"Content-Length: 11", body=b"hello world"))
    assert [e[0] for e in events] == ["request", "data", "end"]
    assert events[0][7:9] == (11, False)
    assert events[0][-1] is True
    assert events[1] == ("data", b"hello world")
    assert events[2] == ("end", {})


def test_no_framing_headers_means_no_body(ok, msg):
    """RFC 9112 6.3 (7): a request with neither CL nor TE has a zero-length body."""
    events = ok(msg(POST, HOST))
    assert [e[0] for e in events] == ["request", "end"]
    assert events[0][7] == 0 and events[0][-1] is False


def test_content_length_zero(ok, msg):
    """RFC 9110 8.6: Content-Length: 0 is an empty body, not a missing one."""
    events = ok(msg(POST, HOST, b"Content-Length: 0"))
    assert [e[0] for e in events] == ["request", "end"]


def test_leading_zeros_are_digits_and_the_app_sees_the_plain_number(ok, msg):
    """RFC 9110 8.6: 1*DIGIT; leading zeros are still decimal digits.  Issue 9 point 6:
    the value the app gets (CONTENT_LENGTH) is the plain decimal form."""
    events = ok(msg(POST, HOST, b"Content-Length: 0003", body=b"abc"))
    assert events[0][7] == 3 and events[1] == ("data", b"abc")
    assert events[0][6]["content-length"] == "3"
    events = ok(msg(POST, HOST, b"Content-Length: 000"))
    assert events[0][7] == 0 and events[0][6]["content-length"] == "0"
    events = ok(msg(POST, HOST, b"Content-Length: 10", body=b"x" * 10))
    assert events[0][6]["content-length"] == "10"


@pytest.mark.parametrize(
    "value",
    [
        b"+3",
        b"-3",
        b"3.0",
        b"0x3",
        b"3 3",
        b"3e0",
        b"\xb3",
        b"three",
        b"3;",
        b"1_0",
        b"\xef\xbc\x93",
    ],
)
def test_content_length_must_be_digits(bad, msg, value):
    """RFC 9110 8.6: 1*DIGIT only (CVE-2022-24761: int() accepted "+10" and "0x01")."""
    assert bad(msg(POST, HOST, b"Content-Length: " + value, body=b"abc")) == 400


@pytest.mark.parametrize(
    "fields",
    [
        [b"Content-Length: 3, 3"],
        [b"Content-Length: 3,3"],
        [b"Content-Length: 3", b"Content-Length: 3"],
        [b"Content-Length: 3", b"Content-Length: 3, 3"],
    ],
)
def test_identical_content_lengths_are_400_too(bad, msg, fields):
    """Issue 9 point 6: RFC 9110 8.6 lets a recipient read a list of identical values as
    one, but that reached the app as CONTENT_LENGTH "3, 3" (a 500 from Django), and a peer
    reading the list otherwise desyncs (PortSwigger; gunicorn's corpus calls it invalid).
    Refused as waitress refuses it: 400, and the connection closes."""
    assert bad(msg(POST, HOST, *fields, body=b"abc")) == 400


@pytest.mark.parametrize(
    "fields",
    [
        [b"Content-Length: 3", b"Content-Length: 4"],
        [b"Content-Length: 3, 4"],
        [b"Content-Length: 3,", b"Content-Length: 3"],
        [b"Content-Length: 3, 03"],
        [b"Content-Length: ,3"],
    ],
)
def test_differing_content_lengths_are_400(bad, msg, fields):
    """RFC 9112 6.3 (5): differing Content-Length values are unrecoverable: 400, close."""
    assert bad(msg(POST, HOST, *fields, body=b"abcd")) == 400


def test_huge_content_length_is_413_not_a_crash(bad, msg):
    """A valid but enormous 1*DIGIT value is too large (413), never an int() overflow."""
    assert bad(msg(POST, HOST, b"Content-Length: " + b"9" * 5000)) == 413
    assert bad(msg(POST, HOST, b"Content-Length: 99999999999999999999")) == 413


def test_content_length_over_limit_is_413_before_the_body(engine, msg):
    """Issue 3: a declared body over max_body_size is 413 at the head, before any body byte."""
    events, error = engine.run([msg(POST, HOST, b"Content-Length: 11")], Limits(max_body_size=10))
    assert events == [] and error is not None and error.status == 413


def test_content_length_at_limit_is_fine(ok, msg):
    """The limit itself is allowed."""
    events = ok(msg(POST, HOST, b"Content-Length: 10", body=b"x" * 10), Limits(max_body_size=10))
    assert events[1] == ("data", b"x" * 10)


def test_chunked_body(ok, msg):
    """RFC 9112 7.1: chunks are de-chunked into Data; the request reports chunked."""
    body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    events = ok(msg(POST, HOST, b"Transfer-Encoding: chunked", body=body))
    assert events[0][7:9] == (0, True)
    assert events[1:] == [("data", b"hello world"), ("end", {})]


@pytest.mark.parametrize("value", [b"Chunked", b"CHUNKED", b"chunked \t"])
def test_transfer_coding_names_are_case_insensitive(ok, msg, value):
    """RFC 9112 7: transfer-coding names are case-insensitive; trailing OWS is not the value."""
    events = ok(msg(POST, HOST, b"Transfer-Encoding: " + value, body=b"0\r\n\r\n"))
    assert events[0][8] is True


@pytest.mark.parametrize(
    "value",
    [b"gzip", b"chunked, gzip", b"identity", b"", b"chunked;q=1", b"chunked,", b", chunked"],
)
def test_chunked_not_final_is_400(bad, msg, value):
    """RFC 9112 6.3 (4): TE present and chunked not final: 400 and close."""
    assert bad(msg(POST, HOST, b"Transfer-Encoding: " + value, body=b"0\r\n\r\n")) == 400


@pytest.mark.parametrize(
    "fields",
    [
        [b"Transfer-Encoding: chunked, chunked"],
        [b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"],
    ],
)
def test_chunked_twice_is_400(bad, msg, fields):
    """RFC 9112 6.1: a sender MUST NOT apply chunked more than once."""
    assert bad(msg(POST, HOST, *fields, body=b"0\r\n\r\n")) == 400


@pytest.mark.parametrize("value", [b"gzip, chunked", b"x-custom, chunked", b"deflate,chunked"])
def test_unknown_coding_before_chunked_is_501(bad, msg, value):
    """RFC 9112 6.1: a server receiving a transfer coding it does not understand SHOULD 501."""
    assert bad(msg(POST, HOST, b"Transfer-Encoding: " + value, body=b"0\r\n\r\n")) == 501


def test_invalid_coding_token_is_400(bad, msg):
    """RFC 9110 10.1.4: transfer-coding = token; "x y" is not one."""
    assert bad(msg(POST, HOST, b"Transfer-Encoding: x y, chunked", body=b"0\r\n\r\n")) == 400


def test_transfer_encoding_in_http10_is_400(bad, msg):
    """RFC 9112 6.1: TE in an HTTP/1.0 request is a framing fault: 400 and close."""
    assert bad(msg(b"POST / HTTP/1.0", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n")) == 400


@pytest.mark.parametrize("order", [0, 1])
def test_transfer_encoding_with_content_length_is_400(bad, msg, order):
    """RFC 9112 6.1: TE with CL "ought to be handled as an error"; we answer 400 and close."""
    fields = [b"Content-Length: 5", b"Transfer-Encoding: chunked"]
    if order:
        fields.reverse()
    assert bad(msg(POST, HOST, *fields, body=b"0\r\n\r\n")) == 400


@pytest.mark.parametrize(
    ("version", "connection", "keep_alive"),
    [
        (b"HTTP/1.1", None, True),
        (b"HTTP/1.1", b"close", False),
        (b"HTTP/1.1", b"Close", False),
        (b"HTTP/1.1", b"keep-alive, close", False),
        (b"HTTP/1.1", b"upgrade, CLOSE ", False),
        (b"HTTP/1.1", b"keep-alive", True),
        (b"HTTP/1.1", b"closed", True),
        (b"HTTP/1.0", None, False),
        (b"HTTP/1.0", b"keep-alive", True),
        (b"HTTP/1.0", b"Keep-Alive", True),
        (b"HTTP/1.0", b"keep-alive, close", False),
        (b"HTTP/1.0", b"upgrade", False),
    ],
)
def test_keep_alive_decision(ok, msg, version, connection, keep_alive):
    """RFC 9112 9.3: 1.1 persists by default, 1.0 only with keep-alive; close always closes."""
    fields = [HOST] if connection is None else [HOST, b"Connection: " + connection]
    assert ok(msg(b"GET / " + version, *fields))[0][9] is keep_alive


def test_expect_100_continue_with_body(ok, msg):
    """RFC 9110 10.1.1: an HTTP/1.1 client with a body may wait for 100 Continue."""
    events = ok(msg(POST, HOST, b"Expect: 100-Continue", b"Content-Length: 2", body=b"hi"))
    assert events[0][10] is True


@pytest.mark.parametrize(
    ("line", "fields"),
    [
        (POST, [HOST, b"Expect: 100-continue"]),
        (b"POST / HTTP/1.0", [b"Expect: 100-continue", b"Content-Length: 2"]),
    ],
)
def test_expect_continue_ignored_without_body_or_in_http10(ok, msg, line, fields):
    """RFC 9110 10.1.1: no content, nothing to wait for; a server MUST ignore it from 1.0."""
    events = ok(msg(line, *fields, body=b"hi" if b"Content-Length: 2" in fields else b""))
    assert events[0][10] is False


@pytest.mark.parametrize("value", [b"200-ok", b"100-continue, foo", b""])
def test_other_expectations_are_417(bad, msg, value):
    """RFC 9110 10.1.1: an expectation other than 100-continue may be answered 417."""
    assert bad(msg(POST, HOST, b"Expect: " + value)) == 417


def test_body_cut_short_is_an_error(engine, msg):
    """RFC 9112 8: a message closed before its declared length is incomplete: error."""
    events, error = engine.run([msg(POST, HOST, b"Content-Length: 10", body=b"12345")])
    assert [e[0] for e in events] == ["request", "data"]
    assert error is not None and error.status == 400


def test_data_is_never_more_than_the_body(engine, msg):
    """Bytes after a Content-Length body are not body: they stay for the next request."""
    parser_events, error = engine.run(
        [msg(POST, HOST, b"Content-Length: 3", body=b"abcGET")], eof=False
    )
    assert error is None
    assert parser_events[1:] == [("data", b"abc"), ("end", {})]


def test_body_bytes_fed_alone_come_out_uncopied_and_the_rest_stays_for_the_next_request():
    """Bytes fed while a Content-Length body is awaited are handed on as the same object;
    what follows the body is kept for the next request, in order."""
    parser = RequestParser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n")
    assert type(parser.next_event()) is Request
    assert parser.next_event() is NEED_DATA
    piece = b"0123"
    parser.feed(piece)
    assert parser.buffered == 4
    event = parser.next_event()
    assert type(event) is Data and event.data is piece
    parser.feed(b"45")
    parser.feed(b"6789GET /next HTTP/1.1\r\n")  # two feeds before the parser runs
    assert parser.buffered == 2 + 4 + len(b"GET /next HTTP/1.1\r\n")
    assert parser.next_event().data == b"456789"
    assert type(parser.next_event()).__name__ == "EndOfMessage"
    parser.feed(b"Host: a\r\n\r\n")
    request = parser.next_event()
    assert type(request) is Request and request.target == "/next"
