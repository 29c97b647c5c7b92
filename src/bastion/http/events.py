"""What the request parser hands out: a request head, body data, the end of a message."""

from __future__ import annotations


class Request:
    """A parsed and validated request head.

    ``target`` is the request-target exactly as sent (REQUEST_URI / RAW_URI).
    ``path`` and ``query`` are its parts, still percent-encoded.  ``headers``
    maps lower-cased field names to combined values (latin-1 decoded ``str``);
    for an absolute-form target, ``headers["host"]`` is the target's authority
    (RFC 9112 3.2.2).  ``content_length`` is the declared body length (0 when
    there is none or the body is chunked).  ``expect_continue`` is True when an
    HTTP/1.1 client sent ``Expect: 100-continue`` with a body and waits for the
    interim response before sending it.  ``scheme`` is the scheme of an
    absolute-form target, else None.

    Read-only, ``headers`` included: a head met again gives the very Request it gave
    before, to whichever connection and thread sent it.
    """

    __slots__ = (
        "chunked",
        "content_length",
        "expect_continue",
        "headers",
        "keep_alive",
        "method",
        "path",
        "query",
        "scheme",
        "target",
        "version",
    )

    def __init__(
        self,
        method: str,
        target: str,
        path: str,
        query: str,
        version: str,
        headers: dict[str, str],
        content_length: int,
        chunked: bool,
        keep_alive: bool,
        expect_continue: bool,
        scheme: str | None,
    ) -> None:
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.content_length = content_length
        self.chunked = chunked
        self.keep_alive = keep_alive
        self.expect_continue = expect_continue
        self.scheme = scheme

    @property
    def has_body(self) -> bool:
        """True when body bytes follow the head on the connection."""
        return self.chunked or self.content_length > 0

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.target} {self.version}>"


class Data:
    """A piece of request body, already de-chunked."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"<Data {len(self.data)} bytes>"


class EndOfMessage:
    """The request body is complete; ``trailers`` holds a chunked body's trailer fields."""

    __slots__ = ("trailers",)

    def __init__(self, trailers: dict[str, str] | None = None) -> None:
        self.trailers = trailers if trailers is not None else {}

    def __repr__(self) -> str:
        return f"<EndOfMessage trailers={len(self.trailers)}>"


class _Sentinel:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


NEED_DATA = _Sentinel("NEED_DATA")
"""The parser needs more bytes before it can say anything more."""

CONNECTION_CLOSED = _Sentinel("CONNECTION_CLOSED")
"""The peer closed the connection cleanly between requests."""

END_OF_MESSAGE = EndOfMessage()
"""The shared EndOfMessage for bodies without trailers (do not mutate)."""
