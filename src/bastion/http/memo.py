"""Bounded memos for values that were checked once and will be met again.

A server sees the same request lines, header lines, Host values and response headers
over and over; remembering that one passed its check is cheaper than checking it again.
A memo is a plain dict, so looking in it costs a dict lookup; ``remember`` is the only
way in, and keeps it within its ``Bound``: at most ``entries`` entries, each at most
``entry_size`` characters of key and value text (latin-1 text, so one byte each).  A
larger entry is not remembered, and a full memo is emptied and fills again with what is
current, so odd or hostile values can neither grow it nor freeze it.

``Caches`` holds the memos a server's parsers, environ templates and policies share, each
with its bound: the server builds one and hands it to what it builds, so no memo is
shared through a module.  (A ``TrustedPeers`` keeps its own memo, bounded likewise.)
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .events import Request
    from .limits import Limits
    from .response import ResponseHead

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


class Caches:
    """The memos of one server, each with its bound (docs/security.md states the totals).

    The loop thread and every worker thread use the same Caches, with no lock; that is
    safe on a free-threaded build (PEP 703) too.  Each memo is only ever read with
    ``get`` or ``in`` and changed with ``remember`` (a set, and a clear when full), never
    iterated, and a dict does each of those as one step (under the GIL, or its own lock
    without one).  A value, once stored, is never changed: tuples of text, a ``Request``
    nobody writes to after parsing, a ``ResponseHead`` complete before it is stored but
    for ``rendered``, itself a bounded memo set right after (a head read before then is
    rendered without one).  So a reader gets a whole entry or none; racing stores of the
    same key store equal values; and a racing clear only loses entries, checked again on
    their next use.
    """

    __slots__ = (
        "environ_keys",
        "header_lines",
        "hosts",
        "ipv6_literals",
        "request_heads",
        "request_lines",
        "response_headers",
        "response_heads",
        "response_names",
        "statuses",
    )

    # Request header lines already validated, and the (name, value) they gave.  Both are
    # parts of the line: lines up to 256 characters, 1,024 x 512 = 512 KiB.
    HEADER_LINES = Bound(1024, 512, lambda line, field: 2 * len(line))
    # Request lines already split into method, target and version: parts of the line, so
    # lines up to 256 characters, 1,024 x 512 = 512 KiB.
    REQUEST_LINES = Bound(1024, 512, lambda line, parts: 2 * len(line))
    # Host values already validated.  Hosts up to 255 characters: 256 x 255 = 64 KiB.
    HOSTS = Bound(256, 255, lambda host, _: len(host))
    # Whole request heads already parsed, each with the limits it was checked against:
    # health checks, monitoring and polling clients send the very same head again and
    # again.  A Request holds at most three times its head's text (the target again as
    # path and query, and once more as an absolute-form Host): heads up to 1 KiB,
    # 256 x 4 KiB = 1 MiB.
    REQUEST_HEADS = Bound(256, 4 * 1024, lambda head, seen: 4 * len(head))
    # Environ keys by header name: the name again with "HTTP_" before it, or None (the
    # header is dropped).  Names up to 125 characters, 1,024 x 256 = 256 KiB.
    ENVIRON_KEYS = Bound(1024, 256, lambda name, key: 2 * len(name) + 5)
    # Valid response header names and their lower-case form: names up to 128,
    # 512 x 256 = 128 KiB.
    RESPONSE_NAMES = Bound(512, 256, lambda name, lower: 2 * len(name))
    # Valid (name, value) response headers and their lower-case name: 1,024 x 2 KiB = 2 MiB.
    RESPONSE_HEADERS = Bound(1024, 2048, lambda header, lower: 2 * len(header[0]) + len(header[1]))
    # Valid status lines and their code: 64 x 128 = 8 KiB.
    STATUSES = Bound(64, 128, lambda status, code: len(status))
    # What render_head gave for one remembered response head (its ``rendered``), by
    # request: HEAD or not, HTTP/1.0 or 1.1, keep-alive or not.  Each is the head's lines,
    # status line, framing, Server and Connection, and the key.
    RENDERINGS = Bound(
        8,
        2048 + 256,
        lambda key, parts: len(key[1]) + len(key[3] or "") + len(parts[0]) + len(parts[1]),
    )
    # Whole response heads, by status and headers: their text in the key, again in the
    # head, the head's rendered lines (no shorter than the headers), and its renderings.
    # Status and lines up to 2 KiB: 256 x (3 x 2 KiB + 8 renderings x 2.25 KiB) = 6 MiB.
    RESPONSE_HEADS = Bound(
        256,
        3 * 2048 + RENDERINGS.total,
        lambda key, head: 3 * (len(head.status) + len(head.lines)) + Caches.RENDERINGS.total,
    )
    # IPv6 Host literals already looked at (trusted hosts), and their normal form in
    # brackets, or None when not an address.  The longest address without a zone is 45
    # characters: 256 x 92 = 23 KiB.
    IPV6_LITERALS = Bound(256, 2 * 45 + 2, lambda text, address: len(text) + len(address or ""))

    def __init__(self) -> None:
        self.header_lines: dict[str, tuple[str, str]] = {}
        self.request_lines: dict[str, tuple[str, str, str]] = {}
        self.hosts: dict[str, None] = {}
        self.request_heads: dict[str, tuple[Limits, Request]] = {}
        self.environ_keys: dict[str, str | None] = {}
        self.response_names: dict[str, str] = {}
        self.response_headers: dict[tuple[str, str], str] = {}
        self.statuses: dict[str, int] = {}
        self.response_heads: dict[tuple[object, ...], ResponseHead] = {}
        self.ipv6_literals: dict[str, str | None] = {}
