"""The Date header value: RFC 9110 5.6.7 IMF-fixdate, formatted at most once a second."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from bastion.server import dates
from bastion.server.dates import DateCache, http_date


@pytest.mark.parametrize(
    "now",
    [
        0,
        784111777,  # RFC 9110's example: Sun, 06 Nov 1994 08:49:37 GMT
        951782400,  # 2000-02-29, a leap day in a /400 year
        1709164800,  # 2024-02-29
        4107542399,  # 2100-02-28 23:59:59 (2100 is not a leap year)
        4107542400,
        253402300799,  # 9999-12-31 23:59:59
    ],
)
def test_matches_the_stdlib_at_known_instants(now):
    """Same text as email.utils.formatdate(usegmt=True), the stdlib's IMF-fixdate."""
    assert http_date(now) == formatdate(now, usegmt=True)


def test_matches_the_stdlib_across_many_days():
    """Every weekday, month and year boundary over ~60 years, sampled every 9973 minutes."""
    for now in range(0, 2_000_000_000, 9973 * 60):
        assert http_date(now + 0.75) == formatdate(int(now + 0.75), usegmt=True)


def test_rfc_example_text():
    """RFC 9110 5.6.7's example."""
    assert http_date(784111777.9) == "Sun, 06 Nov 1994 08:49:37 GMT"


def test_formatted_at_most_once_a_second(monkeypatch):
    """A DateCache reuses the text within one second; the next second formats again."""
    calls = []

    def counting(second: int) -> str:
        calls.append(second)
        return formatdate(second, usegmt=True)

    monkeypatch.setattr(dates, "http_date", counting)
    cache = DateCache()
    base = 1_700_000_000
    texts = {cache.format(base + fraction / 10) for fraction in range(10)}
    assert texts == {formatdate(base, usegmt=True)} and calls == [base]
    cache.format(base + 1.2)
    assert calls == [base, base + 1]


def test_each_cache_keeps_its_own_second():
    """Two servers' caches share nothing: one's second never answers for the other."""
    first, second = DateCache(), DateCache()
    assert first.format(784111777.5) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert second.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert first.format(784111777.9) == "Sun, 06 Nov 1994 08:49:37 GMT"
