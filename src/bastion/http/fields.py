"""Header and trailer field sections: validation and combination.

``parse_field_block`` validates a whole block of field lines with one regex
pass; only when that pass finds an invalid line does it walk the lines to name
the exact fault.  ``combine_fields`` folds repeated names per RFC 9110 5.3.
"""

from __future__ import annotations

from .errors import BadRequest
from .grammar import FIELD_LINE_RE, FIELD_VALUE_RE, TOKEN_RE

_findall = FIELD_LINE_RE.findall

# Repeats of these fields are refused: RFC 9112 3.2 (Host); Content-Type and
# the credentials fields are singletons whose combined value is meaningless and
# which two components could read differently (first vs last).
SINGLETON_FIELDS = frozenset({"host", "content-type", "authorization", "proxy-authorization"})

# RFC 9113 8.2.3 / RFC 6265 5.4: cookie-pairs are joined with "; ", never ", ",
# which cookie parsers would read as part of a value.
_JOINERS = {"cookie": "; "}


def parse_field_block(block: str) -> list[tuple[str, str]]:
    """Parse ``block``: field lines, each *preceded* by CRLF, with the final CRLF.

    That is, ``"\\r\\nHost: a\\r\\nAccept: */*\\r\\n"``.  Returns (name, value)
    pairs with names as sent and values stripped of surrounding whitespace.
    Raises ``BadRequest`` for any malformed line; the caller checks counts and sizes.
    """
    fields = _findall(block)
    if len(fields) != block.count("\r\n") - 1:
        _diagnose(block)
    return fields


def _diagnose(block: str) -> None:
    """Raise the precise error for the first invalid line of ``block``."""
    for line in block[2:-2].split("\r\n"):
        if not line:
            raise BadRequest("empty header line")
        if line[0] in " \t":
            # RFC 9112 5.2: obs-fold is refused outside message/http.
            raise BadRequest("obsolete line folding in header")
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest("header line without a colon")
        if name != name.rstrip(" \t"):
            # RFC 9112 5.1: no whitespace between field name and colon.
            raise BadRequest("whitespace between header name and colon")
        if not TOKEN_RE.fullmatch(name):
            raise BadRequest(_bad_char_reason(name, "invalid header name"))
        if not FIELD_VALUE_RE.fullmatch(value):
            raise BadRequest(_bad_char_reason(value, "invalid character in header value"))
    # Every line passed on its own: the block contained a bare CR or LF that
    # split a line in a way the per-line check cannot see.
    raise BadRequest("bare CR or LF in header section")


def _bad_char_reason(text: str, default: str) -> str:
    if "\r" in text:
        return "bare CR in header section"
    if "\n" in text:
        return "bare LF in header section"
    if "\x00" in text:
        return "NUL in header section"
    return default


def combine_fields(fields: list[tuple[str, str]]) -> dict[str, str]:
    """Map lower-cased names to values, joining repeats with ", " (RFC 9110 5.3).

    Repeated singleton fields are refused (see ``SINGLETON_FIELDS``); Cookie
    repeats are joined with "; ".  Content-Length repeats are joined like any
    list and judged by the framing code.
    """
    headers: dict[str, str] = {}
    for name, value in fields:
        key = name.lower()
        if key in headers:
            if key in SINGLETON_FIELDS:
                raise BadRequest("repeated singleton header field")
            headers[key] = headers[key] + _JOINERS.get(key, ", ") + value
        else:
            headers[key] = value
    return headers
