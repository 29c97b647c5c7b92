"""Protocol errors of the HTTP/1.1 engine.

Every error carries the HTTP status the server answers with and a fixed reason
text written here in the source.  The text never contains bytes from the
request, so an error response built from it cannot reflect attacker input.
After any ``ProtocolError`` the connection must be closed: the engine refuses to
parse anything further from it.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """A request the engine refuses.  ``status`` is the HTTP status to answer with."""

    status: int = 400

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if status is not None:
            self.status = status


class BadRequest(ProtocolError):
    """400: the request is malformed (syntax, framing or a forbidden construct)."""

    status = 400


class URITooLong(ProtocolError):
    """414: the request line is longer than the configured limit."""

    status = 414


class HeaderFieldsTooLarge(ProtocolError):
    """431: the header section, or the number of header fields, exceeds its limit."""

    status = 431


class ContentTooLarge(ProtocolError):
    """413: the request body is (or would become) larger than the configured limit."""

    status = 413


class ExpectationFailed(ProtocolError):
    """417: an Expect header with an expectation other than ``100-continue``."""

    status = 417


class NotImplementedCoding(ProtocolError):
    """501: a transfer coding the server does not implement."""

    status = 501


class MethodNotImplemented(ProtocolError):
    """501: a method the server never serves (CONNECT: WSGI has no tunnels)."""

    status = 501


class VersionNotSupported(ProtocolError):
    """505: a well-formed HTTP version other than 1.0 and 1.1."""

    status = 505


class IncompleteMessage(BadRequest):
    """The peer closed the connection in the middle of a request."""


class ResponseError(ValueError):
    """The application supplied a status line or header the engine must not send.

    Raised while serialising a response; the server answers 500 instead of
    sending anything that could split or corrupt the response stream.
    """
