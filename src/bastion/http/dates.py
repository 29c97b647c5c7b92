"""The HTTP Date header value (RFC 9110 5.6.7), formatted at most once a second."""

from __future__ import annotations

_DAYS = ("Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed")  # 1970-01-01 was a Thursday
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_cache: tuple[int, str] = (-1, "")


def http_date(now: float) -> str:
    """Return the IMF-fixdate for Unix time ``now``; the clock is the caller's."""
    global _cache
    second = int(now)
    cached = _cache
    if cached[0] == second:
        return cached[1]
    text = _format(second)
    _cache = (second, text)
    return text


def _format(second: int) -> str:
    days, rest = divmod(second, 86400)
    hour, rest = divmod(rest, 3600)
    minute, sec = divmod(rest, 60)
    # Civil date from days since the epoch (H. Hinnant's days_from_civil, inverted).
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (month <= 2)
    weekday = _DAYS[days % 7]
    return (
        f"{weekday}, {day:02d} {_MONTHS[month - 1]} {year:04d} "
        f"{hour:02d}:{minute:02d}:{sec:02d} GMT"
    )
