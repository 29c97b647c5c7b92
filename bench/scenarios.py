"""The benchmark scenarios: which path, how many wrk connections, which wrk script."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    """One load shape; ``idle`` is how many extra idle keep-alive connections are held open."""

    name: str
    path: str
    connections: int
    script: str | None
    idle: int
    description: str


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "hello", "/hello", 50, None, 0,
            "GET of a 12-byte body with Content-Length, 50 keep-alive connections.",
        ),
        Scenario(
            "close", "/hello", 50, "close.lua", 0,
            "As hello, but every request sends `Connection: close`: one TCP connection per"
            " request (accept and close cost).",
        ),
        Scenario(
            "big", "/big", 50, None, 0,
            "GET of a 1 MiB body with Content-Length, 50 keep-alive connections (write path).",
        ),
        Scenario(
            "stream", "/stream", 50, None, 0,
            "GET of a generator of 64 chunks of 16 KiB without Content-Length, so HTTP/1.1"
            " chunked (per-chunk overhead), 50 keep-alive connections.",
        ),
        Scenario(
            "upload", "/upload", 50, "upload.lua", 0,
            "POST of a 1 MiB body that the app reads fully, 50 keep-alive connections"
            " (read path and input buffering).",
        ),
        Scenario(
            "sleep", "/sleep", 100, None, 0,
            "The app sleeps 10 ms, then answers hello; 100 keep-alive connections: a blocking"
            " app at equal threads (4), so at most ~400 req/s for a 4-thread server.",
        ),
        Scenario(
            "idle", "/hello", 50, None, 2000,
            "hello at 50 connections, measured first alone, then while the harness holds 2,000"
            " other keep-alive connections open and idle (each sent one request first), on the"
            " same server process: the cost of idle connections.",
        ),
    )
}  # fmt: skip
