"""The error hierarchy (issue item 4) and the fixed error responses (error_pages)."""

from __future__ import annotations

import re

import pytest

from bastion.http import (
    REASONS,
    BadRequest,
    ContentTooLarge,
    ExpectationFailed,
    HeaderFieldsTooLarge,
    IncompleteMessage,
    Limits,
    NotImplementedCoding,
    ProtocolError,
    ResponseError,
    URITooLong,
    VersionNotSupported,
    render_error,
)

MARKER = b"SECRETzq"


@pytest.mark.parametrize(
    ("cls", "status"),
    [
        (BadRequest, 400),
        (IncompleteMessage, 400),
        (URITooLong, 414),
        (HeaderFieldsTooLarge, 431),
        (ContentTooLarge, 413),
        (ExpectationFailed, 417),
        (NotImplementedCoding, 501),
        (VersionNotSupported, 505),
    ],
)
def test_each_error_class_carries_its_status(cls, status):
    """One hierarchy rooted at ProtocolError; each class answers with its own status."""
    error = cls("reason")
    assert isinstance(error, ProtocolError)
    assert error.status == status and error.reason == "reason"
    assert status in REASONS


def test_status_can_be_given_explicitly():
    """ARCHITECTURE: ProtocolError(msg, status=400)."""
    assert ProtocolError("x", status=431).status == 431
    assert ProtocolError("x").status == 400


def test_response_error_is_separate_from_protocol_errors():
    """A bad response from the app is the server's fault (500), not the client's."""
    assert not issubclass(ResponseError, ProtocolError)
    assert issubclass(ResponseError, ValueError)


@pytest.mark.parametrize(
    ("data", "limits"),
    [
        (b"GET /" + MARKER + b"\x00 HTTP/1.1\r\n\r\n", Limits()),
        (b"G" + MARKER + b"( / HTTP/1.1\r\n\r\n", Limits()),
        (b"GET / HTTP/1." + MARKER + b"\r\n\r\n", Limits()),
        (b"GET / HTTP/1.1\r\nHost: a\r\n" + MARKER + b" : x\r\n\r\n", Limits()),
        (b"GET / HTTP/1.1\r\nHost: " + MARKER + b" x\r\n\r\n", Limits()),
        (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: " + MARKER + b"\r\n\r\n", Limits()),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + MARKER + b", chunked\r\n\r\n",
            Limits(),
        ),
        (b"GET /" + MARKER * 20 + b" HTTP/1.1\r\n\r\n", Limits(max_request_line=40)),
        (b"GET / HTTP/1.1\r\nHost: a\r\nExpect: " + MARKER + b"\r\n\r\n", Limits()),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + MARKER + b"\r\n",
            Limits(),
        ),
    ],
)
def test_reason_never_contains_request_bytes(engine, data, limits):
    """Issue 4: the reason text is fixed in the source, never built from the request."""
    _, error = engine.run([data], limits)
    assert error is not None
    assert "SECRET" not in error.reason and "SECRET" not in str(error)
    assert re.fullmatch(r"[a-zA-Z0-9 /\-]+", error.reason)


def test_render_error_is_a_complete_closing_response():
    """The fixed response: status line, plain text body with correct length, Connection: close."""
    out = render_error(431, "Thu, 01 Jan 1970 00:00:00 GMT", "bastion")
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert b"Content-Length: %d" % len(body) in lines
    assert b"Connection: close" in lines
    assert b"Date: Thu, 01 Jan 1970 00:00:00 GMT" in lines
    assert b"Server: bastion" in lines
    assert body == b"431 Request Header Fields Too Large\n"


def test_render_error_options():
    """No body for HEAD (length kept), keep-alive, extra headers, omitted Date/Server, detail."""
    out = render_error(503, None, None, [("Retry-After", "5")], body=False, keep_alive=True)
    assert out.endswith(b"\r\n\r\n")
    assert b"Retry-After: 5\r\n" in out
    assert b"Connection" not in out and b"Date" not in out and b"Server" not in out
    assert b"Content-Length: 24\r\n" in out
    detailed = render_error(500, None, None, detail="Traceback: boom")
    assert detailed.endswith(b"500 Internal Server Error\n\nTraceback: boom")
