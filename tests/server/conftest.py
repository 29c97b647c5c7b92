"""Fixtures for functional tests: a real bastion server on 127.0.0.1 in a thread.

``serve_app(app, **options)`` is a context manager that starts a ``Server`` on a
free port and yields a :class:`Running`; leaving it stops the server (gracefully)
and checks that its thread ended.  ``Running.wire()`` opens a raw client
connection (:class:`Wire`) that reads whole HTTP/1.1 responses, so tests can see
exactly what went over the socket.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bastion_testing import wait_until

from bastion.config import Config
from bastion.server import Server

DEFAULT_TIMEOUT = 5.0


class Response:
    """One HTTP response as read off the wire."""

    def __init__(
        self,
        version: str,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        body: bytes,
        chunk_sizes: list[int] | None,
        head: bytes,
    ) -> None:
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.chunk_sizes = chunk_sizes  # None unless the body was chunked
        self.head = head  # the raw head, status line through the blank line

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or None; repeats are joined."""
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(values) if values else None

    def names(self) -> set[str]:
        return {n.lower() for n, _ in self.headers}

    @property
    def closes(self) -> bool:
        """True when the response announces ``Connection: close``."""
        value = self.header("connection") or ""
        return "close" in [t.strip().lower() for t in value.split(",")]

    def __repr__(self) -> str:
        return f"<Response {self.status} {len(self.body)} bytes>"


class Wire:
    """A raw client socket with a read buffer; every read is bounded by a deadline."""

    def __init__(self, sock: socket.socket, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.sock = sock
        self.timeout = timeout
        self.buffer = bytearray()
        self.eof = False
        sock.settimeout(timeout)

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _recv(self, deadline: float) -> bool:
        """Receive into the buffer; False at EOF.  Raises TimeoutError past ``deadline``."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no data from the server in time")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(262144)
        except ConnectionResetError:
            data = b""
        finally:
            self.sock.settimeout(self.timeout)
        if not data:
            self.eof = True
            return False
        self.buffer += data
        return True

    def _take(self, count: int, deadline: float) -> bytes:
        while len(self.buffer) < count:
            if not self._recv(deadline):
                raise EOFError(f"connection closed with {len(self.buffer)} of {count} bytes")
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def take(self, count: int, timeout: float | None = None) -> bytes:
        """Exactly ``count`` bytes (raises EOFError if the server closes first)."""
        return self._take(count, time.monotonic() + (timeout or self.timeout))

    def _line(self, deadline: float) -> bytes:
        while b"\r\n" not in self.buffer:
            if not self._recv(deadline):
                raise EOFError("connection closed in the middle of a line")
        end = self.buffer.index(b"\r\n")
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 2]
        return line

    def read_head(self, timeout: float | None = None) -> tuple[str, int, str, list, bytes]:
        """Read one response head: (version, status, reason, headers, raw head)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n\r\n" not in self.buffer:
            if not self._recv(deadline):
                raise EOFError(
                    f"connection closed before a full head: {bytes(self.buffer[:200])!r}"
                )
        end = self.buffer.index(b"\r\n\r\n")
        raw = bytes(self.buffer[:end])
        del self.buffer[: end + 4]
        lines = raw.decode("latin-1").split("\r\n")
        version, status, reason = [*lines[0].split(" ", 2), ""][:3]
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name, value.strip(" \t")))
        return version, int(status), reason, headers, raw + b"\r\n\r\n"

    def read_response(self, method: str = "GET", timeout: float | None = None) -> Response:
        """Read one complete response to a ``method`` request, framed per RFC 9112 6.3."""
        deadline = time.monotonic() + (timeout or self.timeout)
        version, status, reason, headers, raw = self.read_head(timeout)
        response = Response(version, status, reason, headers, b"", None, raw)
        if 100 <= status < 200 or status in (204, 304) or method == "HEAD":
            return response
        te = response.header("transfer-encoding")
        length = response.header("content-length")
        if te is not None:
            assert te.lower() == "chunked", f"unexpected Transfer-Encoding {te!r}"
            response.chunk_sizes = []
            pieces = []
            for _ in range(1_000_000):
                size = int(self._line(deadline).split(b";")[0], 16)
                response.chunk_sizes.append(size)
                if size == 0:
                    break
                pieces.append(self._take(size, deadline))
                assert self._take(2, deadline) == b"\r\n", "chunk not followed by CRLF"
            for _ in range(1000):  # trailer section, up to its blank line
                if not self._line(deadline):
                    break
            response.body = b"".join(pieces)
        elif length is not None:
            response.body = self._take(int(length), deadline)
        else:
            response.body = self.read_to_close(deadline - time.monotonic())
        return response

    def read_to_close(self, timeout: float | None = None) -> bytes:
        """Everything until the server closes (buffered bytes included)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while self._recv(deadline):
            pass
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def closed_by_server(self, timeout: float = 2.0) -> bool:
        """True if the server closes within ``timeout`` (without sending anything more)."""
        try:
            rest = self.read_to_close(timeout)
        except TimeoutError:
            return False
        assert rest == b"", f"unexpected bytes before close: {rest[:200]!r}"
        return True

    def nothing_within(self, seconds: float) -> bool:
        """True if no byte arrives (and no close) within ``seconds``."""
        if self.buffer:
            return False
        try:
            self._recv(time.monotonic() + seconds)
        except TimeoutError:
            return True
        return False


class Running:
    """A server running in a background thread, and how to reach it."""

    def __init__(self, server: Server, thread: threading.Thread) -> None:
        self.server = server
        self.thread = thread
        sock = server.listeners[0].sock
        if sock.family == getattr(socket, "AF_UNIX", None):
            self.unix_path: str | None = sock.getsockname()
            self.host, self.port = "localhost", 0
        else:
            self.unix_path = None
            self.host, self.port = sock.getsockname()[:2]

    def connect(self, timeout: float = DEFAULT_TIMEOUT) -> socket.socket:
        if self.unix_path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(self.unix_path)
            return sock
        return socket.create_connection((self.host, self.port), timeout=timeout)

    def slow_reader(self, receive_buffer: int, timeout: float = DEFAULT_TIMEOUT) -> socket.socket:
        """A connected client socket with a small receive buffer, for clients that stop reading."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.settimeout(timeout)
        sock.connect((self.host, self.port))
        return sock

    def wire(self, timeout: float = DEFAULT_TIMEOUT) -> Wire:
        return Wire(self.connect(timeout), timeout)

    def exchange(self, data: bytes, timeout: float = DEFAULT_TIMEOUT) -> bytes:
        """Send ``data`` on a new connection, half-close, and read until the server closes."""
        with self.connect(timeout) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            return read_until_close(sock, timeout)

    def request(self, data: bytes, method: str = "GET", timeout: float = DEFAULT_TIMEOUT):
        """Send one raw request on a new connection and return its parsed response."""
        with self.wire(timeout) as wire:
            wire.send(data)
            return wire.read_response(method)

    def wait_no_connections(self, timeout: float = DEFAULT_TIMEOUT) -> bool:
        """Wait (bounded) until the server holds no client connection; whether it came to that."""
        return wait_until(lambda: not self.server.connections, timeout)


def read_until_close(sock: socket.socket, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    deadline = time.monotonic() + timeout
    sock.settimeout(timeout)
    chunks = []
    while time.monotonic() < deadline:
        data = sock.recv(65536)
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


@contextlib.contextmanager
def serving(app: Callable[..., Any], **options: Any) -> Iterator[Running]:
    if "unix_socket" not in options and "sockets" not in options:
        options.setdefault("listen", "127.0.0.1:0")
    options.setdefault("threads", 4)
    server = Server(app, Config.from_kwargs(**options))
    thread = threading.Thread(target=server.run, name="bastion-test-server", daemon=True)
    thread.start()
    assert wait_until(lambda: server.accepting, 5, interval=0.005), (
        "server did not start accepting within 5 s"
    )
    try:
        yield Running(server, thread)
    finally:
        server.stop()
        thread.join(15)
        assert not thread.is_alive(), "server did not stop within 15 s"


@pytest.fixture
def serve_app() -> Callable[..., contextlib.AbstractContextManager[Running]]:
    return serving
