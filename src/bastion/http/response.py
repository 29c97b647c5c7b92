"""The response side, sans-IO: check what the application supplied, then frame it.

``check_response`` runs when the application calls ``start_response``: it
refuses anything that could split or corrupt the response stream (header names
that are not tokens; CR, LF, NUL or any other CTL in a value; non-latin-1
text) and hop-by-hop headers PEP 3333 forbids.  ``render_head`` then decides
the framing (RFC 9112 6.3) and keep-alive, and returns the head bytes.
"""

from __future__ import annotations

import re

from .errors import ResponseError
from .grammar import STATUS_RE, TOKEN_RE, split_list
from .memo import Caches, remember

# How the body of a response is delimited on the wire.
NO_BODY = 0  # HEAD, 204, 304: the head is all there is
LENGTH = 1  # Content-Length
CHUNKED = 2  # Transfer-Encoding: chunked (HTTP/1.1 clients only)
CLOSE_DELIMITED = 3  # the end of the connection ends the body (HTTP/1.0)

# PEP 3333 "Other HTTP Features": an application must not send hop-by-hop
# headers, the RFC 2616 13.5.1 list (the set waitress refuses), plus the
# non-standard Proxy-Connection.  Connection is handled apart: "close" is
# honoured, the rest dropped.
_FORBIDDEN_HOP_BY_HOP = frozenset(
    {
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)

_token_match = TOKEN_RE.fullmatch
_status_match = STATUS_RE.fullmatch
# Any CTL except HTAB, and anything outside latin-1, is refused in a value.
# One character class (not an alternation): a long value is scanned at C speed.
_BAD_VALUE_CHAR = re.compile("[\x00-\x08\x0a-\x1f\x7f\u0100-\U0010ffff]").search
_digits_match = re.compile("[0-9]{1,19}").fullmatch

# Names check_response acts on, besides checking them.
_SPECIAL_NAMES = frozenset({"content-length", "connection", "date", "server"}) | (
    _FORBIDDEN_HOP_BY_HOP
)

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
"""The interim response sent before reading a body the client is holding back."""

LAST_CHUNK = b"0\r\n\r\n"
"""The last-chunk and empty trailer section that end a chunked body."""


class ResponseHead:
    """A checked status and header list, ready to be framed.

    ``headers`` excludes Connection (re-added by ``render_head``);
    ``content_length`` is the application's Content-Length, or None;
    ``close`` is True when the application sent ``Connection: close``.
    """

    __slots__ = (
        "close",
        "code",
        "content_length",
        "has_date",
        "has_server",
        "headers",
        "lines",
        "rendered",
        "status",
    )

    def __init__(
        self,
        status: str,
        code: int,
        headers: list[tuple[str, str]],
        content_length: int | None,
        close: bool,
        has_date: bool,
        has_server: bool,
    ) -> None:
        self.status = status
        self.code = code
        self.headers = headers
        self.content_length = content_length
        self.close = close
        self.has_date = has_date
        self.has_server = has_server
        # The header lines as sent ("Name: value\r\n" each), rendered on first use.
        self.lines: str | None = None
        # For a head that is reused (see check_response): render_head's results by
        # request, around the Date line.
        self.rendered: dict[tuple[object, ...], tuple[str, str, int, bool]] | None = None


def check_response(
    status: str, headers: list[tuple[str, str]], caches: Caches | None = None
) -> ResponseHead:
    """Validate an application's status and headers; raise ``ResponseError`` if unsafe.

    What was checked before is remembered in ``caches`` (the server's; without one,
    nothing is remembered between calls): a status and header list seen before give
    back the same (read-only) ResponseHead.
    """
    if caches is None:
        caches = Caches()
    heads = caches.response_heads
    key = known = None
    if type(headers) is list:
        try:
            key = (status, *headers)
            known = heads.get(key)
        except TypeError:  # unhashable parts: the full check says why
            key = None
    if known is not None:
        return known
    head = _check_response(status, headers, caches)
    if key is not None:
        head.headers = tuple(head.headers)  # type: ignore[assignment]
        head.lines = _header_lines(head.headers)
        if remember(heads, key, head, Caches.RESPONSE_HEADS):
            head.rendered = {}
    return head


def _check_response(status: str, headers: list[tuple[str, str]], caches: Caches) -> ResponseHead:
    if type(headers) is not list:
        # PEP 3333 asks for a list; any other iterable is read once, as waitress does.
        try:
            headers = list(headers)
        except TypeError:
            raise ResponseError("response headers are not a list") from None
    code = caches.statuses.get(status) if type(status) is str else None
    if code is None:
        code = _check_status(status, caches)
    content_length = None
    close = False
    has_date = has_server = False
    kept = headers
    checked = caches.response_headers.get
    for index, header in enumerate(headers):
        try:
            lower = checked(header)
        except TypeError:  # unhashable: not a (str, str) tuple
            lower = None
        if lower is None:
            lower = _check_header(header, caches)
        if lower in _SPECIAL_NAMES:
            if lower == "content-length":
                if content_length is not None:
                    raise ResponseError("invalid Content-Length from application")
                content_length = int(header[1])
            elif lower == "connection":
                value = header[1].lower()
                close = close or "close" in split_list(value)
                if kept is headers:
                    kept = list(headers[:index])
                continue
            elif lower == "date":
                has_date = True
            elif lower == "server":
                has_server = True
            else:
                raise ResponseError("hop-by-hop header from application (PEP 3333)")
        if kept is not headers:
            kept.append(header)
    return ResponseHead(status, code, kept, content_length, close, has_date, has_server)


def _check_header(header: object, caches: Caches) -> str:
    """Validate one (name, value) header; return its lower-cased name, remembered."""
    if type(header) is not tuple or len(header) != 2:
        raise ResponseError("response header is not a (name, value) tuple")
    name, value = header
    lower = caches.response_names.get(name) if type(name) is str else None
    if lower is None:
        lower = _check_name(name, caches)
    if type(value) is not str:
        raise ResponseError("response header value is not a str")
    if _BAD_VALUE_CHAR(value) is not None:
        raise ResponseError("control character or non-latin-1 text in response header")
    if lower == "content-length" and _digits_match(value) is None:
        raise ResponseError("invalid Content-Length from application")
    remember(caches.response_headers, header, lower, Caches.RESPONSE_HEADERS)
    return lower


def _check_status(status: object, caches: Caches) -> int:
    if type(status) is not str or _status_match(status) is None:
        raise ResponseError("invalid status line from application")
    code = int(status[:3])
    if code < 200:
        # An interim status (100 Continue, 101 Switching Protocols) sent as the final
        # response would leave client and server disagreeing on what comes next.
        raise ResponseError("informational (1xx) status from application")
    remember(caches.statuses, status, code, Caches.STATUSES)
    return code


def _check_name(name: object, caches: Caches) -> str:
    if type(name) is not str or _token_match(name) is None:
        raise ResponseError("invalid response header name")
    lower = name.lower()
    remember(caches.response_names, name, lower, Caches.RESPONSE_NAMES)
    return lower


def render_head(
    head: ResponseHead,
    method: str,
    version: str,
    keep_alive: bool,
    date: str | None,
    server: str | None,
    content_length: int | None = None,
) -> tuple[bytes, int, bool]:
    """Frame a checked response for one request.

    ``version`` and ``keep_alive`` come from the request; ``content_length``
    is a length the server computed itself (used only when the application
    gave none).  ``date`` and ``server`` are added unless the application set
    them or they are None.  Returns (head bytes, framing, keep-alive): framing
    is NO_BODY, LENGTH, CHUNKED or CLOSE_DELIMITED, and the connection must be
    closed after the response when keep-alive is False.
    """
    memo = head.rendered
    if memo is None:
        parts = _render(head, method, version, keep_alive, server, content_length)
    else:
        key = (method == "HEAD", version, keep_alive, server, content_length)
        parts = memo.get(key)
        if parts is None:
            parts = _render(head, method, version, keep_alive, server, content_length)
            remember(memo, key, parts, Caches.RENDERINGS)
    before, after, framing, keep_alive = parts
    if date is not None and not head.has_date:
        text = before + "Date: " + date + "\r\n" + after
    else:
        text = before + after
    return text.encode("latin-1"), framing, keep_alive


def _render(
    head: ResponseHead,
    method: str,
    version: str,
    keep_alive: bool,
    server: str | None,
    content_length: int | None,
) -> tuple[str, str, int, bool]:
    """The head's text before and after the Date line, its framing and keep-alive."""
    code = head.code
    headers = head.headers
    length = head.content_length
    keep_alive = keep_alive and not head.close
    lines = [f"HTTP/1.1 {head.status}\r\n"]
    if code == 204:  # check_response refuses 1xx
        # RFC 9110 8.6: no Content-Length in 204.
        framing = NO_BODY
        if length is not None:
            headers = [h for h in headers if h[0].lower() != "content-length"]
    elif method == "HEAD" or code == 304:
        framing = NO_BODY
        if length is None and content_length is not None and method == "HEAD":
            lines.append(f"Content-Length: {content_length}\r\n")
    elif length is not None:
        framing = LENGTH
    elif content_length is not None:
        framing = LENGTH
        lines.append(f"Content-Length: {content_length}\r\n")
    elif version == "HTTP/1.1":
        framing = CHUNKED
        lines.append("Transfer-Encoding: chunked\r\n")
    else:
        framing = CLOSE_DELIMITED
        keep_alive = False
    if headers is head.headers:
        rendered = head.lines
        if rendered is None:
            rendered = head.lines = _header_lines(headers)
        lines.append(rendered)
    else:
        lines.extend([f"{name}: {value}\r\n" for name, value in headers])
    after = []
    if server is not None and not head.has_server:
        after.append(f"Server: {server}\r\n")
    if not keep_alive:
        after.append("Connection: close\r\n\r\n")
    elif version == "HTTP/1.0":
        after.append("Connection: keep-alive\r\n\r\n")
    else:
        after.append("\r\n")
    return "".join(lines), "".join(after), framing, keep_alive


def _header_lines(headers: list[tuple[str, str]]) -> str:
    return "".join([f"{name}: {value}\r\n" for name, value in headers])


def chunk(data: bytes) -> bytes:
    """Frame ``data`` as one chunk; empty data frames to nothing.

    An empty chunk would be the last-chunk and end the body early.
    """
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)
