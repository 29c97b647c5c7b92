"""What every connection reads and never changes: limits, buffer sizes, timeouts, identity.

Built once from the configuration (``ConnectionSettings.from_config``) and shared by all
connections, so a connection never reaches into the server for a setting, and a test
can build a connection from settings alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..http import Caches, Limits
from .dates import DateCache

# Request bodies are read in blocks at least this large: reading a 1 MiB upload
# 8 KiB at a time costs four times the CPU of reading it in 256 KiB blocks.
BODY_RECV_BYTES = 262144

Allowance = Callable[[int], float]


def allowance(timeout: float, min_rate: int, max_timeout: float) -> Allowance:
    """Seconds allowed for a transfer of which ``n`` bytes went through so far:
    ``timeout``, plus one second per ``min_rate`` bytes, capped at ``max_timeout`` (0: none)."""
    if not min_rate:
        return lambda done: timeout
    cap = max(max_timeout, timeout) if max_timeout else float("inf")
    return lambda done: min(timeout + done / min_rate, cap)


def _unlimited(done: int) -> float:
    return float("inf")


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """The per-connection settings, from the options of the same names.

    ``send_timeout`` is capped by ``channel_timeout`` (a stalled reader is an inactive
    connection too).  The allowances are mod_reqtimeout's: a head, a body or a response
    waiting on its client has a base timeout plus one second per ``*_min_rate`` bytes.
    ``retry_after`` is the header a 503 carries; ``ident`` the Server header (None: none);
    ``clock`` gives the time for Date headers and ``date`` formats it; ``proxy_protocol``
    says a preamble comes first on every connection.  ``caches`` (the server's memos) and
    ``date`` are shared by every connection of one server and owned by it.
    """

    limits: Limits
    recv_bytes: int
    body_recv_bytes: int
    send_bytes: int
    inbuf_overflow: int
    outbuf_overflow: int
    outbuf_high_watermark: int
    channel_timeout: float
    send_timeout: float
    header_allowance: Allowance
    body_allowance: Allowance
    send_allowance: Allowance
    retry_after: tuple[tuple[str, str], ...]
    ident: str | None
    clock: Callable[[], float]
    date: DateCache
    caches: Caches
    proxy_protocol: bool

    @classmethod
    def from_config(
        cls,
        config: Any,
        caches: Caches | None = None,
        date: DateCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> ConnectionSettings:
        """The settings for ``config``; without ``caches`` or ``date``, fresh ones."""
        send_timeout = min(config.send_timeout, config.channel_timeout)
        return cls(
            limits=Limits(
                max_request_line=config.max_request_line,
                max_header_size=config.max_request_header_size,
                max_header_fields=config.max_request_header_fields,
                max_body_size=config.max_request_body_size,
            ),
            recv_bytes=config.recv_bytes,
            body_recv_bytes=max(config.recv_bytes, BODY_RECV_BYTES),
            send_bytes=config.send_bytes,
            inbuf_overflow=config.inbuf_overflow,
            outbuf_overflow=config.outbuf_overflow,
            outbuf_high_watermark=config.outbuf_high_watermark,
            channel_timeout=config.channel_timeout,
            send_timeout=send_timeout,
            header_allowance=allowance(
                config.header_timeout, config.header_min_rate, config.header_max_timeout
            ),
            body_allowance=allowance(
                config.body_timeout, config.body_min_rate, config.body_max_timeout
            ),
            send_allowance=(
                allowance(send_timeout, config.send_min_rate, 0.0)
                if config.send_min_rate
                else _unlimited
            ),
            retry_after=(("Retry-After", str(config.retry_after)),),
            ident=config.ident or None,
            clock=clock,
            date=DateCache() if date is None else date,
            caches=Caches() if caches is None else caches,
            proxy_protocol=bool(config.proxy_protocol),
        )
