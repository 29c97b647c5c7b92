"""Bounded memos for values that were checked once and will be met again.

A server sees the same request lines, header lines, Host values and response headers
over and over; remembering that one passed its check is cheaper than checking it again.
Every memo is bounded: when it is full it is emptied and fills again with what is
current, so odd or hostile values can neither grow it nor freeze it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def remember(memo: MutableMapping[K, V], key: K, value: V, limit: int) -> None:
    """Store ``key -> value`` in ``memo``, emptying it first when it holds ``limit`` entries."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
