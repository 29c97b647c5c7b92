"""Hold many idle keep-alive connections open to a server.

Each connection sends one complete ``GET /hello`` and reads its response, so the server has
seen it as a real keep-alive connection; then it stays silent until closed.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

REQUEST = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
BATCH = 100
SOCKET_TIMEOUT = 5.0
OPEN_DEADLINE = 60.0
MAX_RECVS = 64


@dataclass
class IdleSet:
    """The connections held open, and why opening stopped early if it did."""

    wanted: int
    sockets: list[socket.socket] = field(default_factory=list)
    error: str = ""

    def alive(self) -> int:
        """Count the connections the server has not closed (peeked without blocking)."""
        count = 0
        for sock in self.sockets:
            # A socket with a timeout polls for up to that long even with MSG_DONTWAIT.
            sock.setblocking(False)
            try:
                if sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                    count += 1  # unexpected bytes, but the connection is still open
            except BlockingIOError:
                count += 1
            except OSError:
                pass
        return count


def _read_response(sock: socket.socket) -> None:
    buf = b""
    for _ in range(MAX_RECVS):
        head_end = buf.find(b"\r\n\r\n")
        if head_end >= 0:
            length = 0
            for line in buf[:head_end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(buf) - head_end - 4 >= length:
                if not buf.startswith(b"HTTP/1.1 200"):
                    raise OSError(f"unexpected response {buf[:30]!r}")
                return
        data = sock.recv(65536)
        if not data:
            raise OSError("server closed the connection before its response ended")
        buf += data
    raise OSError("response too long")


def _timeout(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise OSError(f"out of time ({OPEN_DEADLINE:.0f} s)")
    return min(SOCKET_TIMEOUT, left)


def _open_batch(host: str, port: int, count: int, deadline: float) -> list[socket.socket]:
    batch: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection((host, port), timeout=_timeout(deadline))
            batch.append(sock)
            sock.sendall(REQUEST)
        for sock in batch:
            sock.settimeout(_timeout(deadline))
            _read_response(sock)
    except BaseException:
        for sock in batch:
            sock.close()
        raise
    return batch


@contextlib.contextmanager
def hold(host: str, port: int, count: int) -> Iterator[IdleSet]:
    """Open ``count`` keep-alive connections (in batches of 100, within 60 s), yield, close all."""
    held = IdleSet(count)
    deadline = time.monotonic() + OPEN_DEADLINE
    try:
        while len(held.sockets) < count:
            try:
                size = min(BATCH, count - len(held.sockets))
                held.sockets += _open_batch(host, port, size, deadline)
            except OSError as exc:
                held.error = f"opened {len(held.sockets)}, then: {exc}"
                break
        yield held
    finally:
        for sock in held.sockets:
            sock.close()
