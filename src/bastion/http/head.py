"""Parse one complete request head (RFC 9112 sections 2-3, 5-6) into a ``Request``.

The input is the head decoded as latin-1, from the first byte of the request
line through the blank line that ends it.  The whole head is validated here,
so the body framing the parser applies next is never ambiguous.
"""

from __future__ import annotations

from .authority import is_authority_form, is_host
from .errors import (
    BadRequest,
    ContentTooLarge,
    ExpectationFailed,
    MethodNotImplemented,
    NotImplementedCoding,
    URITooLong,
    VersionNotSupported,
)
from .events import Request
from .fields import parse_fields
from .grammar import (
    ABSOLUTE_FORM_RE,
    CONTENT_LENGTH_RE,
    HTTP_VERSION_RE,
    REQUEST_LINE_RE,
    TOKEN_RE,
    split_list,
)
from .limits import Limits
from .memo import Caches, remember

_request_line_match = REQUEST_LINE_RE.fullmatch
_content_length_match = CONTENT_LENGTH_RE.fullmatch


def parse_head(head: str, limits: Limits, caches: Caches) -> Request:
    """Validate ``head`` and return the ``Request`` it describes.

    A head already parsed under the same ``limits`` gives the very Request it gave
    before (``caches.request_heads``): requests are read-only.  Raises a
    ``ProtocolError`` subclass carrying the status to answer with.
    """
    seen = caches.request_heads.get(head)
    if seen is not None and seen[0] is limits:
        return seen[1]
    request = _parse_head(head, limits, caches)
    remember(caches.request_heads, head, (limits, request), Caches.REQUEST_HEADS)
    return request


def _parse_head(head: str, limits: Limits, caches: Caches) -> Request:
    line_end = head.find("\r\n")
    if line_end > limits.max_request_line:
        raise URITooLong("request line too long")
    line = head[:line_end]
    parts = caches.request_lines.get(line)
    if parts is None:
        parts = _check_request_line(line, caches)
    method, target, version = parts
    if version != "HTTP/1.1" and version != "HTTP/1.0":
        if method == "PRI" and version == "HTTP/2.0":
            raise BadRequest("HTTP/2 connection preface on an HTTP/1.1 port")
        raise VersionNotSupported("HTTP version not supported")

    headers = parse_fields(head, caches, line_end, limits.max_header_fields)
    get = headers.get

    # RFC 9112 3.2: exactly one valid Host in HTTP/1.1, whatever the target's
    # form (repeats are refused by parse_fields).
    host = get("host")
    if host is None:
        if version == "HTTP/1.1":
            raise BadRequest("missing Host header")
    elif host not in caches.hosts:
        if not is_host(host):
            raise BadRequest("invalid Host header")
        remember(caches.hosts, host, None, Caches.HOSTS)

    scheme = None
    if target[0] == "/" and method != "CONNECT":
        if "#" in target:
            raise BadRequest("fragment in request target")
        path, _, query = target.partition("?")
    else:
        path, query, scheme = _parse_other_form(method, target, headers)

    content_length = 0
    chunked = False
    transfer_encoding = get("transfer-encoding")
    if transfer_encoding is not None:
        if "content-length" in headers:
            # RFC 9112 6.1: a message with both is a smuggling attempt.
            raise BadRequest("both Transfer-Encoding and Content-Length")
        if version == "HTTP/1.0":
            raise BadRequest("Transfer-Encoding in an HTTP/1.0 request")
        _check_transfer_encoding(transfer_encoding)
        chunked = True
    else:
        declared = get("content-length")
        if declared is not None:
            content_length = _parse_content_length(declared)
            if content_length > limits.max_body_size:
                raise ContentTooLarge("request body too large")
            if declared[0] == "0" and len(declared) > 1:  # CONTENT_LENGTH "0009" -> "9"
                headers["content-length"] = str(content_length)

    connection = get("connection")
    if connection is None:
        keep_alive = version == "HTTP/1.1"
    else:
        options = connection.lower()
        if "close" in options and "close" in split_list(options):
            keep_alive = False
        elif version == "HTTP/1.1":
            keep_alive = True
        else:
            keep_alive = "keep-alive" in split_list(options)

    expect_continue = False
    expect = get("expect")
    if expect is not None:
        if expect.lower() != "100-continue":
            raise ExpectationFailed("unsupported expectation")
        # RFC 9110 10.1.1: ignore 100-continue from an HTTP/1.0 client, and
        # when there is no content to wait for.
        expect_continue = version == "HTTP/1.1" and (chunked or content_length > 0)

    return Request(
        method,
        target,
        path,
        query,
        version,
        headers,
        content_length,
        chunked,
        keep_alive,
        expect_continue,
        scheme,
    )


def _check_request_line(line: str, caches: Caches) -> tuple[str, str, str]:
    """Split a request line into method, target and version; remember it (bounded)."""
    match = _request_line_match(line)
    if match is None:
        _diagnose_request_line(line)
    parts: tuple[str, str, str] = match.groups()  # type: ignore[union-attr,assignment]
    remember(caches.request_lines, line, parts, Caches.REQUEST_LINES)
    return parts


def _parse_other_form(
    method: str, target: str, headers: dict[str, str]
) -> tuple[str, str, str | None]:
    """Handle asterisk-, authority- and absolute-form targets (RFC 9112 3.2)."""
    if method == "CONNECT":
        if not is_authority_form(target):
            raise BadRequest("CONNECT requires an authority-form target")
        # RFC 9110 9.3.6: a 2xx answer would turn the connection into a tunnel that
        # a proxy in front stops inspecting, while this server would go on parsing
        # requests from it.  WSGI has no tunnels: refuse before any app sees it.
        raise MethodNotImplemented("CONNECT is not supported")
    if target == "*":
        if method != "OPTIONS":
            raise BadRequest("asterisk-form target is only allowed with OPTIONS")
        return "*", "", None
    match = ABSOLUTE_FORM_RE.fullmatch(target)
    if match is None:
        raise BadRequest("invalid request target")
    scheme, authority, rest = match.groups()
    scheme = scheme.lower()
    if scheme != "http" and scheme != "https":
        raise BadRequest("unsupported scheme in absolute-form target")
    if not is_host(authority) or authority[0] == ":":
        raise BadRequest("invalid authority in absolute-form target")
    if rest and rest[0] not in "/?":
        raise BadRequest("invalid request target")
    if "#" in rest:
        raise BadRequest("fragment in request target")
    path, _, query = rest.partition("?")
    # RFC 9112 3.2.2: the target's authority replaces any Host header.
    headers["host"] = authority
    return path or "/", query, scheme


def _diagnose_request_line(line: str) -> None:
    """Raise the precise error for a request line that failed to match."""
    parts = line.split(" ")
    if len(parts) == 3 and parts[2] and HTTP_VERSION_RE.fullmatch(parts[2]) is None:
        raise BadRequest("invalid HTTP version")
    if len(parts) == 3 and parts[0] and not TOKEN_RE.fullmatch(parts[0]):
        raise BadRequest("invalid method")
    if len(parts) == 3 and parts[1]:
        raise BadRequest("invalid character in request target")
    raise BadRequest("malformed request line")


def _parse_content_length(value: str) -> int:
    """RFC 9110 8.6: 1*DIGIT.  A list, even of identical values, is refused (waitress too)."""
    if _content_length_match(value) is None:
        raise BadRequest("invalid Content-Length")
    if len(value) > 18:
        # Valid but huge: int() of a long digit run is slow (or refused past
        # sys.int_info.default_max_str_digits), and no limit is that large.
        value = value.lstrip("0")
        if len(value) > 18:
            raise ContentTooLarge("request body too large")
    return int(value or "0")


def _check_transfer_encoding(value: str) -> None:
    """RFC 9112 6.1 / 6.3 / 7: chunked, final and once; no other codings."""
    if value == "chunked":
        return
    codings = split_list(value.lower())
    if codings[-1] != "chunked":
        raise BadRequest("chunked is not the final transfer coding")
    for coding in codings[:-1]:
        if coding == "chunked":
            raise BadRequest("chunked transfer coding applied more than once")
        if TOKEN_RE.fullmatch(coding) is None:
            raise BadRequest("invalid Transfer-Encoding")
    if len(codings) > 1:
        raise NotImplementedCoding("unsupported transfer coding")
