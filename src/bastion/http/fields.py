"""Header and trailer field sections: validation and combination.

``parse_fields`` splits a block into its lines and folds them into a dict.  Each
line is checked by one regex match, unless the very same line was checked before:
clients and proxies repeat their header lines on every request, so lines already
validated are remembered (``Caches.header_lines``).  An invalid line makes it
walk the block to name the exact fault.

Repeated field names are combined with ", " in order (RFC 9110 5.3), which is
what PEP 3333's one-value-per-name environ needs, except:

- Cookie: joined with "; " (RFC 6265 5.4, RFC 9113 8.2.3); ", " would be read
  by cookie parsers as part of a cookie value.
- Host, Content-Type, Content-Length, Authorization, Proxy-Authorization:
  refused with 400.  They are singletons, so a combined value means nothing,
  and two components could each pick a different one (first vs last): RFC 9112
  3.2 requires 400 for Host, and the issue does for Content-Type.  RFC 9110 8.6
  lets a recipient take repeated identical Content-Lengths as one, but a
  component that does not is open to a list-form desync, so bastion refuses
  them as waitress does.
"""

from __future__ import annotations

from .errors import BadRequest, HeaderFieldsTooLarge
from .grammar import FIELD_RE, FIELD_VALUE_RE, TOKEN_RE
from .memo import Caches, remember

_field_match = FIELD_RE.fullmatch

SINGLETON_FIELDS = frozenset(
    {"host", "content-type", "content-length", "authorization", "proxy-authorization"}
)
"""Names whose repetition is refused (see the module docstring)."""

_JOINERS = {"cookie": "; "}


def parse_fields(
    block: str, caches: Caches, start: int = 0, max_fields: int | None = None
) -> dict[str, str]:
    """Validate ``block[start:]`` and return its fields as a dict.

    The block is field lines, each *preceded* by CRLF, then CRLF CRLF: that is,
    ``"\\r\\nHost: a\\r\\nAccept: */*\\r\\n\\r\\n"``.  Keys are lower-cased names,
    values are stripped of surrounding whitespace (OWS) and repeats combined
    (see the module docstring).  Raises ``BadRequest`` for a malformed line and
    ``HeaderFieldsTooLarge`` for more than ``max_fields`` lines.  Lines checked
    before are looked up in ``caches.header_lines``.
    """
    inner = block[start + 2 : len(block) - 4]
    if not inner:
        return {}
    seen = caches.header_lines
    get = seen.get
    fields = [get(line) or _check_line(line, block, start, seen) for line in inner.split("\r\n")]
    headers = dict(fields)
    if len(headers) != len(fields):  # a name repeats
        headers = combine_fields(fields)
    if max_fields is not None and len(fields) > max_fields:
        raise HeaderFieldsTooLarge("too many header fields")
    return headers


def _check_line(
    line: str, block: str, start: int, seen: dict[str, tuple[str, str]]
) -> tuple[str, str]:
    """Validate one field line; remember it in ``seen``, as the same lines come again."""
    match = _field_match(line)
    if match is None:
        _diagnose(block[start:])
    name, value = match.groups()  # type: ignore[union-attr]
    field = (name.lower(), value.strip(" \t"))
    remember(seen, line, field, Caches.HEADER_LINES)
    return field


def combine_fields(fields: list[tuple[str, str]]) -> dict[str, str]:
    """Map lower-cased names to values, combining repeats (see the module docstring)."""
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


def _diagnose(block: str) -> None:
    """Raise the precise error for the first invalid line of ``block``."""
    for line in block[2:-4].split("\r\n"):
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
