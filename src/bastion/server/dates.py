"""The HTTP Date header value (RFC 9110 5.6.7): the stdlib's IMF-fixdate, once a second.

The server's business, not the engine's: the engine takes the text as a parameter and
stays sans-IO, while email.utils imports socket and time.
"""

from __future__ import annotations

from email.utils import formatdate


def http_date(now: float) -> str:
    """Return the IMF-fixdate for the second of Unix time ``now``."""
    return formatdate(int(now), usegmt=True)


class DateCache:
    """``http_date`` formatted at most once a second; the clock is the caller's.

    One per server.  Safe to share between threads: the (second, text) pair is replaced
    whole.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: tuple[int, str] = (-1, "")

    def format(self, now: float) -> str:
        """The Date value for Unix time ``now``."""
        second = int(now)
        last = self._last
        if last[0] == second:
            return last[1]
        text = http_date(second)
        self._last = (second, text)
        return text
