"""The HTTP Date header value (RFC 9110 5.6.7), formatted at most once a second."""

from __future__ import annotations

from email.utils import formatdate

_cache: tuple[int, str] = (-1, "")


def http_date(now: float) -> str:
    """Return IMF-fixdate for the Unix time ``now``; the clock is the caller's."""
    global _cache
    second = int(now)
    cached = _cache
    if cached[0] == second:
        return cached[1]
    text = formatdate(second, usegmt=True)
    _cache = (second, text)
    return text
