"""Fixtures for functional tests: a real bastion server on 127.0.0.1 in a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bastion.config import Config

from bastion.server import Server


class Running:
    """A server running in a background thread, and how to reach it."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.host, self.port = server.listeners[0].sock.getsockname()[:2]

    def connect(self, timeout: float = 5.0) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=timeout)

    def exchange(self, data: bytes, timeout: float = 5.0) -> bytes:
        """Send ``data`` on a new connection, half-close, and read until the server closes."""
        with self.connect(timeout) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            return read_until_close(sock, timeout)


def read_until_close(sock: socket.socket, timeout: float = 5.0) -> bytes:
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
    options.setdefault("listen", "127.0.0.1:0")
    options.setdefault("threads", 4)
    server = Server(app, Config.from_kwargs(**options))
    thread = threading.Thread(target=server.run, name="bastion-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.accepting and time.monotonic() < deadline:
        time.sleep(0.005)
    assert server.accepting, "server did not start accepting within 5 s"
    try:
        yield Running(server)
    finally:
        server.stop()
        thread.join(15)
        assert not thread.is_alive(), "server did not stop within 15 s"


@pytest.fixture
def serve_app() -> Callable[..., contextlib.AbstractContextManager[Running]]:
    return serving
