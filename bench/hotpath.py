"""The Python cost of one keep-alive request through the server, without the kernel.

Run pinned to one core, as a script or a module::

    taskset -c 1 python bench/hotpath.py
    taskset -c 1 python -m bench.hotpath

A stand-in socket hands the connection one small GET per ``recv`` and takes every
``send``; the job the event loop would queue for a worker runs at once on the same
thread.  So the figure is everything bastion's own code does for a request (read,
parse, dispatch, environ, the application, the response head, the hand-back) and
nothing the kernel, the GIL or the thread switches add.  The best of five rounds is
printed; the last line is machine-readable: ``hotpath us_per_request=X.XX``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bastion.config import Config
from bastion.server import Server
from bastion.server.connection import Connection

REQUEST = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "12")])
    return [b"Hello world\n"]


class StandInSocket:
    """Always has the next request ready; accepts everything sent."""

    family = 2

    def recv(self, size: int) -> bytes:
        return REQUEST

    def send(self, data: bytes) -> int:
        return len(data)

    def settimeout(self, timeout: float | None) -> None:
        pass

    def close(self) -> None:
        pass


def measure(requests: int, rounds: int = 5) -> float:
    """Seconds per request, the best of ``rounds`` rounds of ``requests`` each."""
    server = Server(hello, Config.from_kwargs(listen="127.0.0.1:0"))
    server.open()
    jobs: list[Any] = []
    server._put_job = jobs.append
    listener = server.listeners[0]
    conn = Connection(server, server.settings, StandInSocket(), ("127.0.0.1", 5555), listener)  # type: ignore[arg-type]
    conn.events = 1  # as if registered with the loop

    def one() -> None:
        conn._read()
        function, args = jobs.pop()
        function(*args)

    try:
        for _ in range(2000):
            one()
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(requests):
                one()
            best = min(best, (time.perf_counter() - started) / requests)
        return best
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000, help="requests per round")
    args = parser.parse_args()
    seconds = measure(args.requests)
    print(f"bastion hot path: {seconds * 1e6:.2f} us per keep-alive hello request (Python only)")
    print(f"hotpath us_per_request={seconds * 1e6:.2f}")


if __name__ == "__main__":
    main()
