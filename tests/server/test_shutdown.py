"""Graceful stop: in-flight requests finish, idle connections close, graceful_timeout bounds it."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from bastion_testing import wait_until

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


class SlowApp:
    """/slow waits for ``release`` (or ``delay`` seconds); anything else answers at once."""

    def __init__(self, delay: float = 0.8) -> None:
        self.delay = delay
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/slow":
            self.entered.set()
            self.release.wait(self.delay)
            start_response("200 OK", [("Content-Length", "8")])
            return [b"finished"]
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]


def test_stop_lets_an_in_flight_request_finish(serve_app):
    app = SlowApp(delay=0.8)
    with serve_app(app) as server, server.wire() as wire:
        wire.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        assert app.entered.wait(5)
        started = time.monotonic()
        server.server.stop()
        response = wire.read_response()
        assert response.status == 200
        assert response.body == b"finished"
        server.thread.join(5)
        assert not server.thread.is_alive()
        assert time.monotonic() - started < 4
        assert wire.closed_by_server(), "no more requests after the in-flight one"


def test_no_new_connections_once_stopping(serve_app):
    app = SlowApp(delay=5)
    with serve_app(app) as server, server.wire() as wire:
        wire.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        assert app.entered.wait(5)
        server.server.stop()

        def refused() -> bool:
            try:
                socket.create_connection((server.host, server.port), timeout=1).close()
            except (ConnectionResetError, TimeoutError):  # caught mid-close; try again
                return False
            except ConnectionRefusedError:
                return True
            return False

        assert wait_until(refused, 2, interval=0.02), "the listener stays open while stopping"
        app.release.set()
        assert wire.read_response().body == b"finished"


def test_idle_keep_alive_connections_are_closed_on_stop(serve_app):
    app = SlowApp()
    with serve_app(app) as server:
        idle = server.wire()
        idle.send(GET)
        assert idle.read_response().status == 200
        half = server.wire()
        half.send(b"GET / HTTP/1.1\r\nHost")  # mid-head
        assert idle.nothing_within(0.1)
        server.server.stop()
        with idle, half:
            assert idle.closed_by_server(2)
            half.read_to_close(2)
            assert half.eof
        server.thread.join(5)
        assert not server.thread.is_alive()


@pytest.mark.parametrize("graceful_timeout", [0.5])
def test_graceful_timeout_bounds_the_wait(serve_app, graceful_timeout):
    app = SlowApp(delay=10)
    try:
        with serve_app(app, graceful_timeout=graceful_timeout) as server, server.wire() as wire:
            wire.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            assert app.entered.wait(5)
            started = time.monotonic()
            server.server.stop()
            server.thread.join(5)
            elapsed = time.monotonic() - started
            assert not server.thread.is_alive()
            assert graceful_timeout - 0.1 <= elapsed < graceful_timeout + 2.5
            wire.read_to_close(2)
            assert wire.eof, "the stuck connection is closed when the server gives up"
    finally:
        app.release.set()


def test_stop_with_nothing_running_returns_quickly(serve_app):
    with serve_app(SlowApp()) as server:
        started = time.monotonic()
        server.server.stop()
        server.thread.join(5)
        assert not server.thread.is_alive()
        assert time.monotonic() - started < 1.5
