"""Clients that go away mid-request or mid-response: nothing leaks, close() is still called."""

from __future__ import annotations

import os
import socket
import struct
import threading

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def abort(sock: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0), the rudest way a client can leave."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class Endless:
    """A large streamed body that records how it ended."""

    def __init__(self, chunk: int = 65536, count: int = 4096) -> None:
        self.data = b"x" * chunk
        self.count = count
        self.closed = threading.Event()
        self.produced = 0

    def __iter__(self):
        for _ in range(self.count):
            self.produced += len(self.data)
            yield self.data

    def close(self):
        self.closed.set()


class App:
    """Routes by path to the behaviours the disconnect tests need."""

    def __init__(self) -> None:
        self.bodies: list[Endless] = []
        self.input_errors: list[BaseException] = []
        self.slow_entered = threading.Event()
        self.slow_release = threading.Event()
        self.slow_closed = threading.Event()

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/stream":
            body = Endless()
            self.bodies.append(body)
            start_response("200 OK", [])
            return body
        if path == "/upload":
            try:
                environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
            except OSError as error:
                self.input_errors.append(error)
                raise
            start_response("200 OK", [("Content-Length", "2")])
            return [b"ok"]
        if path == "/slow":
            self.slow_entered.set()
            self.slow_release.wait(5)
            start_response("200 OK", [("Content-Length", "4")])
            app = self

            class Slow(list):
                def close(self):
                    app.slow_closed.set()

            return Slow([b"late"])
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]


def disconnect_everywhere(server, app: App) -> None:
    """Leave the server in every awkward place a client can."""
    # Mid-head, and right after connecting.
    with server.connect() as sock:
        sock.sendall(b"GET /half HTTP/1.1\r\nHost: x\r\nX-Long: aaaa")
    server.connect().close()
    # Mid-body of a buffered (spilled) upload, politely and rudely.
    with server.connect() as sock:
        sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n")
        sock.sendall(b"y" * 300_000)
    sock = server.connect()
    sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n")
    sock.sendall(b"y" * 300_000)
    abort(sock)
    # Mid-body of a 100-continue upload, after the interim response.
    with server.wire() as wire:
        wire.send(
            b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        assert wire.read_head()[1] == 100
        wire.send(b"z" * 1000)
    # Mid-response of a large streamed body, politely and rudely.
    for rude in (False, True):
        wire = server.wire()
        wire.send(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        wire.read_head()
        wire.take(100_000)
        if rude:
            abort(wire.sock)
        else:
            wire.close()
    # While the app is still working on the request.
    with server.connect() as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        assert app.slow_entered.wait(5)
    app.slow_release.set()
    # Idle keep-alive connection, after one full exchange.
    with server.wire() as wire:
        wire.send(GET)
        assert wire.read_response().body == b"ok"


def test_disconnects_leak_no_descriptors(serve_app):
    before = open_fds()
    app = App()
    with serve_app(app, inbuf_overflow=65536) as server:
        running = open_fds()
        disconnect_everywhere(server, app)
        assert server.wait_no_connections(8), f"{len(server.server.connections)} connections left"
        kept = len(server.server.spill_files)  # temporary files kept for later bodies
        assert open_fds() == running + kept, "descriptors leaked while the server runs"
        # And the server is still fine.
        assert server.request(GET).body == b"ok"
    assert open_fds() == before, "descriptors leaked after the server stopped"


def test_close_is_called_when_the_client_leaves_mid_response(serve_app):
    app = App()
    with serve_app(app) as server:
        for rude in (False, True):
            wire = server.wire()
            wire.send(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
            wire.read_head()
            wire.take(100_000)
            if rude:
                abort(wire.sock)
            else:
                wire.close()
        assert len(app.bodies) == 2
        for body in app.bodies:
            assert body.closed.wait(5), "close() not called on the app iterable"
            assert body.produced < body.count * len(body.data), "the server kept producing"


def test_close_is_called_when_the_client_left_before_the_app_answered(serve_app):
    app = App()
    with serve_app(app) as server:
        with server.connect() as sock:
            sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            assert app.slow_entered.wait(5)  # the client leaves while the app works
        app.slow_release.set()
        assert app.slow_closed.wait(5)
        assert server.wait_no_connections()


def test_upload_cut_short_after_100_continue_never_reaches_the_app(serve_app):
    app = App()
    with serve_app(app) as server:
        with server.wire() as wire:
            wire.send(
                b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                b"Expect: 100-continue\r\n\r\n"
            )
            assert wire.read_head()[1] == 100
            wire.send(b"z" * 1000)
        assert server.wait_no_connections()
        assert server.request(GET).body == b"ok"
    assert app.input_errors == [], "the app runs only once a body has arrived in full"
