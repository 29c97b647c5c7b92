"""The one WSGI application every benchmarked server runs; each scenario picks its path.

``/hello`` 12 bytes with Content-Length; ``/big`` 1 MiB with Content-Length; ``/stream`` 64
chunks of 16 KiB and no Content-Length (chunked on HTTP/1.1); ``/upload`` reads the whole body
and answers its length; ``/sleep`` sleeps 10 ms, then answers like ``/hello``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

HELLO = b"Hello world\n"
BIG = b"x" * (1024 * 1024)
STREAM_CHUNK = b"s" * (16 * 1024)
STREAM_CHUNKS = 64
READ_SIZE = 64 * 1024
SLEEP_SECONDS = 0.01

StartResponse = Callable[..., object]


def _plain(start_response: StartResponse, body: bytes, status: str = "200 OK") -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _stream() -> Iterator[bytes]:
    for _ in range(STREAM_CHUNKS):
        yield STREAM_CHUNK


def _read_body(environ: dict) -> int:
    stream = environ["wsgi.input"]
    try:
        remaining = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        remaining = 0
    total = 0
    while remaining > 0:
        data = stream.read(min(READ_SIZE, remaining))
        if not data:
            break
        total += len(data)
        remaining -= len(data)
    return total


def app(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
    """Serve the benchmark scenarios by ``PATH_INFO``; anything else is a 404."""
    path = environ.get("PATH_INFO", "")
    if path == "/hello":
        return _plain(start_response, HELLO)
    if path == "/big":
        return _plain(start_response, BIG)
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return _stream()
    if path == "/upload":
        return _plain(start_response, b"%d\n" % _read_body(environ))
    if path == "/sleep":
        time.sleep(SLEEP_SECONDS)
        return _plain(start_response, HELLO)
    return _plain(start_response, b"Not Found\n", "404 Not Found")
