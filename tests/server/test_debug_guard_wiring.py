"""The debug-page guard in the server: serve() and Server.run() refuse a debugging
application on a listener other hosts can reach, before any request; allow_debug_app lets
it start. Only loopback addresses are ever connected to."""

from __future__ import annotations

import http.client
import logging
import re
import threading

from bastion_testing import wait_until

import bastion
from bastion.config import Config
from bastion.debug_guard import DebugAppError
from bastion.server import Server


class DebuggedApplication:
    """Looks like Werkzeug's debugger to the guard (module and class name); serves 200."""

    __module__ = "werkzeug.debug"

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def refusal(start) -> DebugAppError:
    """What ``start()`` raised; in a thread, so that a start that serves fails the test."""
    raised: list[BaseException] = []

    def attempt() -> None:
        try:
            start()
        except BaseException as error:
            raised.append(error)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "the server started instead of refusing"
    [error] = raised
    assert isinstance(error, DebugAppError), error
    return error


def test_serve_refuses_a_debugger_on_every_address_before_serving():
    error = refusal(lambda: bastion.serve(DebuggedApplication(hello), listen="0.0.0.0:0"))
    assert "werkzeug's DebuggedApplication at app" in str(error)
    assert "allow_debug_app" in str(error)


def test_a_refused_server_closes_its_listeners_and_never_accepts():
    server = Server(DebuggedApplication(hello), Config.from_kwargs(listen="0.0.0.0:0"))
    server.open()
    sock = server.listeners[0].sock
    error = refusal(server.run)
    assert re.search(r"on 0\.0\.0\.0:\d+, which other hosts can reach", str(error))
    assert sock.fileno() == -1
    assert not server.accepting and server.pool is None


def test_expose_tracebacks_on_every_address_is_refused():
    server = Server(hello, Config.from_kwargs(listen="0.0.0.0:0", expose_tracebacks=True))
    assert "expose_tracebacks is on" in str(refusal(server.run))


def test_allow_debug_app_starts_and_serves_with_a_warning(caplog):
    config = Config.from_kwargs(listen="0.0.0.0:0", allow_debug_app=True, threads=1)
    server = Server(DebuggedApplication(hello), config)
    server.open()
    port = server.listeners[0].sock.getsockname()[1]
    with caplog.at_level(logging.WARNING, logger="bastion.server"):
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        assert wait_until(lambda: server.accepting, 5, interval=0.005)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, b"hello")
            conn.close()
        finally:
            server.stop()
            thread.join(15)
    assert not thread.is_alive()
    warnings = [r.getMessage() for r in caplog.records if "debug pages" in r.getMessage()]
    assert len(warnings) == 1 and "as allow_debug_app is on" in warnings[0]


def test_loopback_only_starts_with_a_warning(serve_app, caplog):
    with (
        caplog.at_level(logging.WARNING, logger="bastion.server"),
        serve_app(DebuggedApplication(hello)) as server,
    ):
        assert server.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").status == 200
    warnings = [r.getMessage() for r in caplog.records if "debug pages" in r.getMessage()]
    assert len(warnings) == 1 and "loopback and unix sockets only" in warnings[0]
