"""Overload and stuck requests: load shedding (503 + Retry-After), max_connections_per_ip,
request_timeout logging and request_timeout_interrupt (504)."""

from __future__ import annotations

import logging
import threading
import time

from bastion_testing import wait_until

from bastion.errors import RequestTimeout

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def ok_app(environ, start_response):
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


class Gate:
    """An app whose requests block until released; counts the requests it entered."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        self.entered.release()
        self.release.wait(10)
        start_response("200 OK", [("Content-Length", "4")])
        return [b"done"]


# -- load shedding ----------------------------------------------------------------------


def test_requests_beyond_the_queue_bound_get_503_with_retry_after(serve_app):
    gate = Gate()
    with serve_app(gate, threads=1, max_queued_requests=2, retry_after=7) as server:
        busy = server.wire()
        busy.send(GET)
        assert gate.entered.acquire(timeout=5)  # the only worker is now busy
        queued = [server.wire() for _ in range(2)]
        for wire in queued:
            wire.send(GET)
        # What load shedding counts: two requests wait, the queue is at its bound.
        assert wait_until(lambda: server.server.queued_requests() == 2, 5)
        assert server.server.pool.queued == 2
        with server.wire() as shed:
            shed.send(GET)
            response = shed.read_response()
            assert response.status == 503
            assert response.header("retry-after") == "7"
            assert response.closes
            assert shed.closed_by_server()
        gate.release.set()
        for wire in [busy, *queued]:
            assert wire.read_response().status == 200
            wire.close()
    assert gate.calls == 3  # the shed request never reached the app


def test_queue_within_its_bound_is_served(serve_app):
    gate = Gate()
    with serve_app(gate, threads=1, max_queued_requests=2) as server:
        wires = [server.wire() for _ in range(3)]  # one running, two queued: at the bound
        wires[0].send(GET)
        assert gate.entered.acquire(timeout=5)
        for wire in wires[1:]:
            wire.send(GET)
        # Both wait, at the bound and not past it: neither is shed.
        assert wait_until(lambda: server.server.queued_requests() == 2, 5)
        assert gate.calls == 1
        gate.release.set()
        for wire in wires:
            assert wire.read_response().status == 200
            wire.close()


def test_no_queue_bound_when_zero(serve_app):
    gate = Gate()
    with serve_app(gate, threads=1, max_queued_requests=0) as server:
        wires = [server.wire() for _ in range(6)]
        for wire in wires:
            wire.send(GET)
        assert gate.entered.acquire(timeout=5)
        gate.release.set()
        assert [wire.read_response().status for wire in wires] == [200] * 6
        for wire in wires:
            wire.close()


def test_a_shed_request_body_is_discarded_and_the_server_keeps_serving(serve_app):
    gate = Gate()
    with serve_app(gate, threads=1, max_queued_requests=1) as server:
        busy = server.wire()
        busy.send(GET)
        assert gate.entered.acquire(timeout=5)
        waiting = server.wire()
        waiting.send(GET)
        assert wait_until(lambda: server.server.queued_requests() == 1, 5)  # at the bound
        post = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        with server.wire() as shed:
            shed.send(post)
            assert shed.read_response().status == 503
        gate.release.set()
        assert busy.read_response().status == 200
        assert waiting.read_response().status == 200
        busy.close()
        waiting.close()
        assert server.request(GET).status == 200


# -- max_connections_per_ip -----------------------------------------------------------------


def test_connections_beyond_the_per_ip_limit_get_503(serve_app):
    with serve_app(ok_app, max_connections_per_ip=2, retry_after=3) as server:
        first, second = server.wire(), server.wire()
        for wire in (first, second):
            wire.send(GET)
            assert wire.read_response().status == 200
        with server.wire() as third:
            response = third.read_response()
            assert response.status == 503
            assert response.header("retry-after") == "3"
            assert third.closed_by_server()
        first.close()
        # The count the limit checks: only the second connection left.
        assert wait_until(lambda: server.server.per_ip == {"127.0.0.1": 1}, 5)
        with server.wire() as again:  # a slot is free again
            again.send(GET)
            assert again.read_response().status == 200
        second.close()
    assert server.server.per_ip == {}


def test_trusted_proxies_are_not_limited_per_ip(serve_app):
    options = {"max_connections_per_ip": 1, "trusted_proxy": "127.0.0.1"}
    options["trusted_proxy_headers"] = "x-forwarded-for"
    with serve_app(ok_app, **options) as server:
        wires = [server.wire() for _ in range(3)]
        for wire in wires:
            wire.send(GET)
            assert wire.read_response().status == 200
            wire.close()


# -- request_timeout -----------------------------------------------------------------------


def test_a_request_past_request_timeout_is_logged_with_path_and_duration(serve_app, caplog):
    def slow(environ, start_response):
        time.sleep(1.5)  # the slow application under test: past request_timeout
        start_response("200 OK", [("Content-Length", "4")])
        return [b"done"]

    caplog.set_level(logging.WARNING, logger="bastion.server")
    with serve_app(slow, request_timeout=0.5) as server:
        response = server.request(b"GET /slow/path?q=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response.body == b"done"  # logged, not interrupted
    messages = [r.getMessage() for r in caplog.records if "still running" in r.getMessage()]
    assert len(messages) == 1
    assert "GET /slow/path" in messages[0]
    assert "interrupting" not in messages[0]
    seconds = float(messages[0].rsplit("after ", 1)[1].split(" s")[0])
    assert 0.5 <= seconds < 1.5


def test_request_timeout_interrupt_stops_a_looping_app_with_504(serve_app):
    finished = threading.Event()
    outcome = []

    def loop(environ, start_response):
        if environ["PATH_INFO"] != "/loop":
            return ok_app(environ, start_response)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                sum(range(100))
            outcome.append("ran to the end")
        except RequestTimeout:
            outcome.append("interrupted")
            raise
        finally:
            finished.set()
        start_response("200 OK", [])
        return [b"late"]

    options = {"request_timeout": 0.5, "request_timeout_interrupt": True}
    with serve_app(loop, **options) as server:
        started = time.monotonic()
        with server.wire() as wire:
            wire.send(b"GET /loop HTTP/1.1\r\nHost: x\r\n\r\n")
            response = wire.read_response()
            elapsed = time.monotonic() - started
            assert response.status == 504
            assert response.body == b"504 Gateway Timeout\n"
            assert wire.closed_by_server()
        assert finished.wait(5)
        assert server.request(GET).status == 200  # the worker serves again
    assert outcome == ["interrupted"]
    assert elapsed < 3


def test_request_timeout_interrupt_stops_a_sleeping_app_when_the_sleep_returns(serve_app):
    def sleepy(environ, start_response):
        for _ in range(100):
            time.sleep(0.05)  # the application under test: 5 s of short sleeps
        start_response("200 OK", [])
        return [b"late"]

    options = {"request_timeout": 0.5, "request_timeout_interrupt": True, "threads": 1}
    with serve_app(sleepy, **options) as server:
        started = time.monotonic()
        response = server.request(GET)
        assert response.status == 504
        assert time.monotonic() - started < 3


def test_an_interrupt_after_the_response_started_closes_the_connection(serve_app):
    def streaming(environ, start_response):
        start_response("200 OK", [])
        yield b"first"
        for _ in range(100):
            time.sleep(0.05)  # the application under test: stuck after its first chunk
        yield b"never"

    options = {"request_timeout": 0.5, "request_timeout_interrupt": True}
    with serve_app(streaming, **options) as server, server.wire() as wire:
        wire.send(GET)
        assert wire.read_head()[1] == 200
        rest = wire.read_to_close(timeout=5)
        assert b"never" not in rest
        assert not rest.endswith(b"0\r\n\r\n")  # no clean end of a chunked body


def test_requests_within_request_timeout_are_not_interrupted(serve_app):
    options = {"request_timeout": 0.5, "request_timeout_interrupt": True, "threads": 1}
    with serve_app(ok_app, **options) as server:
        with server.wire() as wire:
            for _ in range(50):
                wire.send(GET)
                assert wire.read_response().status == 200
        # Time passing is the point: past the timeout, with the worker idle, nothing may hit it.
        time.sleep(1.2)
        assert server.request(GET).status == 200
        assert server.server.handler.watchdog._running == {}
