"""Bounded memos for values that were checked once and will be met again.

A server sees the same request lines, header lines, Host values and response headers
over and over; remembering that one passed its check is cheaper than checking it again.
A memo is a plain dict, so looking in it costs a dict lookup; ``remember`` is the only
way in, and keeps it within its ``Bound``: at most ``entries`` entries, each at most
``entry_size`` characters of key and value text (latin-1 text, so one byte each).  A
larger entry is not remembered, and a full memo is emptied and fills again with what is
current, so odd or hostile values can neither grow it nor freeze it.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Bound:
    """How much one memo may hold.

    ``size(key, value)`` is the text an entry holds (the strings in its key and value),
    or an upper bound on it.  Under concurrent use each thread may add one entry past
    ``entries`` before the next emptying.
    """

    entries: int
    entry_size: int
    size: Callable[[Any, Any], int]

    @property
    def total(self) -> int:
        """The most characters (bytes) of key and value text: entries x entry_size."""
        return self.entries * self.entry_size


def remember(memo: MutableMapping[K, V], key: K, value: V, bound: Bound) -> bool:
    """Store ``key -> value`` unless the entry is over ``bound`` (then return False).

    A memo holding ``bound.entries`` entries is emptied first.
    """
    if bound.size(key, value) > bound.entry_size:
        return False
    if len(memo) >= bound.entries:
        memo.clear()
    memo[key] = value
    return True
