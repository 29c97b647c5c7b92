"""The server's own error responses: fixed texts that never echo the request."""

from __future__ import annotations

from collections.abc import Iterable

REASONS = {
    400: "Bad Request",
    404: "Not Found",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    417: "Expectation Failed",
    421: "Misdirected Request",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
}


def render_error(
    code: int,
    date: str | None,
    server: str | None,
    extra_headers: Iterable[tuple[str, str]] = (),
    body: bool = True,
    keep_alive: bool = False,
    detail: str | None = None,
) -> bytes:
    """Return a complete response for ``code``: head and body of ``error_page``, joined."""
    head, text = error_page(code, date, server, extra_headers, body, keep_alive, detail)
    return head + text


def error_page(
    code: int,
    date: str | None,
    server: str | None,
    extra_headers: Iterable[tuple[str, str]] = (),
    body: bool = True,
    keep_alive: bool = False,
    detail: str | None = None,
) -> tuple[bytes, bytes]:
    """Return the head and the body of the response for ``code``, a fixed plain-text body.

    The body is apart so that the access log can count its bytes (never the head's).

    ``extra_headers`` come from the server itself (e.g. Retry-After), never from
    the request.  ``body=False`` is for a HEAD request.  The connection is
    marked close unless ``keep_alive`` is True.  ``detail`` is appended to the
    body: only for ``expose_tracebacks``, never for request data.
    """
    reason = REASONS[code]
    text = f"{code} {reason}\n"
    if detail:
        text = f"{text}\n{detail}"
    lines = [
        f"HTTP/1.1 {code} {reason}\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
        f"Content-Length: {len(text.encode('utf-8'))}\r\n",
    ]
    lines.extend(f"{name}: {value}\r\n" for name, value in extra_headers)
    if date is not None:
        lines.append(f"Date: {date}\r\n")
    if server is not None:
        lines.append(f"Server: {server}\r\n")
    if not keep_alive:
        lines.append("Connection: close\r\n")
    lines.append("\r\n")
    head = "".join(lines).encode("latin-1")
    return head, text.encode("utf-8") if body else b""
