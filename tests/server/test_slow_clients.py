"""Slow-client defence over raw sockets: header, body and send timeouts (mod_reqtimeout's).

The server sweeps its connections once a second, so a deadline is enforced up to about
one second late: every elapsed-time assertion allows for that, and no more.
"""

from __future__ import annotations

import hashlib
import resource
import selectors
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from bastion_testing import wait_until

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
FIXED_408 = b"408 Request Timeout\n"
SWEEP = 1.0  # the server's timeout sweep interval
SLACK = 0.6  # scheduling noise on a shared machine, on top of SWEEP


def ok_app(environ, start_response):
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


class BodyRecorder:
    """An app that reads the whole body and answers its length and sha256; records errors."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.errors: list[BaseException] = []
        self.failed = threading.Event()

    def __call__(self, environ, start_response):
        try:
            data = environ["wsgi.input"].read()
        except Exception as error:
            self.errors.append(error)
            self.failed.set()
            raise
        self.bodies.append(data)
        body = b"%d %s" % (len(data), hashlib.sha256(data).hexdigest().encode())
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]


def dribble(wire, pieces, interval: float) -> float | None:
    """Send ``pieces`` one per ``interval``; stop when the server answers or closes.

    Returns the monotonic time the server spoke (what it sent stays in ``wire.buffer``),
    or None if it stayed silent until every piece was sent.
    """
    for piece in pieces:
        try:
            wire.send(piece)
        except OSError:  # the server already closed
            return time.monotonic()
        if not wire.nothing_within(interval):
            return time.monotonic()
    return None


def header_bytes(total: int, step: int):
    """An endless-looking request head: a request line, then ``total`` bytes of one header."""
    data = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * total
    return [data[i : i + step] for i in range(0, len(data), step)]


def assert_408_then_eof(wire, marker: bytes = b"", timeout: float = 3) -> float:
    """The next response is the fixed 408 (echoing nothing of the request), then EOF.

    Returns the monotonic time the 408 had arrived.
    """
    response = wire.read_response(timeout=timeout)
    arrived = time.monotonic()
    assert response.status == 408
    assert response.body == FIXED_408
    assert response.closes
    if marker:
        assert marker not in response.head + response.body
    assert wire.closed_by_server(timeout=3)
    return arrived


# -- request head --------------------------------------------------------------------------


def test_silent_connection_is_closed_without_a_response_after_header_timeout(serve_app):
    with serve_app(ok_app, header_timeout=1, header_max_timeout=2) as server:
        with server.wire() as wire:
            started = time.monotonic()
            data = wire.read_to_close(timeout=6)
            elapsed = time.monotonic() - started
        assert server.wait_no_connections()
    assert data == b""
    assert wire.eof
    assert 0.95 <= elapsed <= 1 + SWEEP + SLACK


def test_stalled_partial_head_gets_408_with_the_fixed_body(serve_app):
    marker = b"/secret-path-marker"
    options = dict(header_timeout=1, header_max_timeout=2)
    with serve_app(ok_app, **options) as server, server.wire() as wire:
        wire.send(b"GET " + marker + b" HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        elapsed = assert_408_then_eof(wire, marker, timeout=6) - started
    # 43 bytes at header_min_rate 500 extend the 1 s allowance by under 0.1 s.
    assert 0.95 <= elapsed <= 1.1 + SWEEP + SLACK


def test_bytes_received_extend_the_header_deadline_by_bytes_over_min_rate(serve_app):
    # A 206-byte partial head at 100 bytes per second: 1 s + 2.06 s = 3.06 s in all.
    options = dict(header_timeout=1, header_min_rate=100, header_max_timeout=10)
    with serve_app(ok_app, **options) as server, server.wire() as wire:
        wire.send(b"GET / HTTP/1.1\r\nX-Pad: " + b"p" * 172 + b"\r\n" + b"Host: x\r\n")
        started = time.monotonic()
        elapsed = assert_408_then_eof(wire, timeout=7) - started
    assert 2.95 <= elapsed <= 3 + SWEEP + SLACK


def test_dribbled_head_is_extended_but_never_past_header_max_timeout(serve_app):
    # 20 bytes/s at header_min_rate 10 would extend the deadline for ever; the cap is 3 s.
    options = dict(header_timeout=1, header_min_rate=10, header_max_timeout=3)
    with serve_app(ok_app, **options) as server, server.wire() as wire:
        started = time.monotonic()
        spoke = dribble(wire, header_bytes(200, 2), 0.1)
        assert spoke is not None, "a head dribbled for 10 s was never cut off"
        elapsed = spoke - started
        assert_408_then_eof(wire)
    assert 2.95 <= elapsed <= 3 + SWEEP + SLACK


def test_head_sent_slowly_within_its_allowance_is_served(serve_app):
    # 3 bytes every 0.3 s: after t seconds at least 10 * t bytes arrived, so the
    # allowance 1 + bytes / 10 stays a second ahead; the head takes about 2.7 s.
    options = dict(header_timeout=1, header_min_rate=10, header_max_timeout=5)
    pieces = [GET[i : i + 3] for i in range(0, len(GET), 3)]
    with serve_app(ok_app, **options) as server, server.wire() as wire:
        started = time.monotonic()
        assert dribble(wire, pieces[:-1], 0.3) is None
        wire.send(pieces[-1])
        response = wire.read_response(timeout=3)
        elapsed = time.monotonic() - started
        assert response.status == 200
        assert response.body == b"ok"
        assert not response.closes
    assert elapsed >= 2.4  # well past header_timeout alone


def test_the_same_slow_head_without_min_rate_gets_408(serve_app):
    options = dict(header_timeout=1, header_min_rate=0, header_max_timeout=5)
    pieces = [GET[i : i + 3] for i in range(0, len(GET), 3)]
    with serve_app(ok_app, **options) as server, server.wire() as wire:
        started = time.monotonic()
        spoke = dribble(wire, pieces[:-1], 0.3)
        assert spoke is not None
        assert_408_then_eof(wire)
    assert 0.95 <= spoke - started <= 1 + SWEEP + SLACK


# -- keep-alive ------------------------------------------------------------------------------


def test_idle_keep_alive_is_not_cut_by_header_timeout_but_a_begun_head_is(serve_app):
    options = dict(header_timeout=1, header_max_timeout=1, channel_timeout=10)
    with serve_app(ok_app, **options) as server, server.wire() as wire:
        wire.send(GET)
        assert wire.read_response().status == 200
        assert wire.nothing_within(2.5), "an idle keep-alive connection was cut early"
        wire.send(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        elapsed = assert_408_then_eof(wire, timeout=5) - started
    assert 0.95 <= elapsed <= 1 + SWEEP + SLACK


def test_idle_keep_alive_is_closed_silently_by_channel_timeout(serve_app):
    options = dict(header_timeout=1, header_max_timeout=1, channel_timeout=3)
    with serve_app(ok_app, **options) as server, server.wire() as wire:
        wire.send(GET)
        assert wire.read_response().status == 200
        started = time.monotonic()
        data = wire.read_to_close(timeout=7)
        elapsed = time.monotonic() - started
    assert data == b""
    assert 2.95 <= elapsed <= 3 + SWEEP + SLACK


def test_second_request_head_stalled_gets_408(serve_app):
    options = dict(header_timeout=1, header_max_timeout=1, channel_timeout=10)
    with serve_app(ok_app, **options) as server, server.wire() as wire:
        wire.send(GET)
        assert wire.read_response().status == 200
        wire.send(b"GET /next HTTP/1.1\r\nHost")
        assert_408_then_eof(wire, b"/next")


def test_a_new_head_owes_nothing_to_the_bytes_of_an_earlier_body(serve_app):
    """The review's case: after an upload on a keep-alive connection, a stalled next head
    was credited with the upload's bytes (unbounded with header_max_timeout 0)."""
    options = dict(header_timeout=1, header_min_rate=1000, header_max_timeout=0, channel_timeout=30)
    app = BodyRecorder()
    with serve_app(app, **options) as server, server.wire() as wire:
        body = b"u" * 200_000  # 200 s of credit at 1000 bytes/s, were it counted
        wire.send(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" + body)
        assert wire.read_response().status == 200
        started = time.monotonic()
        wire.send(b"GET /next HTTP/1.1\r\nHost")
        arrived = assert_408_then_eof(wire, b"/next", timeout=5)
    assert arrived - started <= 1 + 24 / 1000 + SWEEP + SLACK


# -- request body -----------------------------------------------------------------------------


def test_stalled_content_length_body_gets_408_and_the_app_is_not_called(serve_app):
    app = BodyRecorder()
    with serve_app(app, body_timeout=1, body_min_rate=0) as server, server.wire() as wire:
        wire.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"a" * 10)
        started = time.monotonic()
        response = wire.read_response(timeout=5)
        elapsed = time.monotonic() - started
        assert response.status == 408
        assert response.body == FIXED_408
        assert wire.closed_by_server(timeout=3)
    assert 0.95 <= elapsed <= 1 + SWEEP + SLACK
    assert app.bodies == [] and app.errors == []


def test_slow_body_within_its_allowance_reaches_the_app_whole(serve_app):
    app = BodyRecorder()
    body = bytes(range(48, 48 + 45))
    pieces = [body[i : i + 5] for i in range(0, len(body), 5)]
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
    # 5 bytes every 0.3 s at body_min_rate 10: the allowance stays ahead of the clock.
    options = dict(body_timeout=1, body_min_rate=10, body_max_timeout=0)
    with serve_app(app, **options) as server, server.wire() as wire:
        wire.send(head)
        started = time.monotonic()
        assert dribble(wire, pieces[:-1], 0.3) is None
        wire.send(pieces[-1])
        response = wire.read_response(timeout=3)
        elapsed = time.monotonic() - started
    assert response.status == 200
    assert response.body == b"45 " + hashlib.sha256(body).hexdigest().encode()
    assert app.bodies == [body]
    assert elapsed >= 2.4


def test_body_max_timeout_caps_a_dribbled_body(serve_app):
    app = BodyRecorder()
    options = dict(body_timeout=1, body_min_rate=10, body_max_timeout=2)
    with serve_app(app, **options) as server, server.wire() as wire:
        wire.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n")
        started = time.monotonic()
        spoke = dribble(wire, [b"bb"] * 100, 0.1)
        assert spoke is not None, "a body dribbled for 10 s was never cut off"
        assert_408_then_eof(wire)
    assert 1.95 <= spoke - started <= 2 + SWEEP + SLACK
    assert app.bodies == []


def test_stalled_body_after_100_continue_gets_408_and_never_reaches_the_app(serve_app):
    app = BodyRecorder()
    options = dict(body_timeout=1, body_min_rate=0)
    with serve_app(app, **options) as server, server.wire() as wire:
        wire.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"
        )
        started = time.monotonic()
        assert wire.read_response(timeout=3).status == 100
        wire.send(b"c" * 10)
        response = wire.read_response(timeout=5)
        cut_after = time.monotonic() - started
        assert response.status == 408
        assert response.closes
        assert server.wait_no_connections()
    assert app.errors == []
    assert app.bodies == []
    # The body clock starts with the head; the loop's sweep runs once a second.
    assert 0.95 <= cut_after <= 2 + SLACK


# -- send timeout ------------------------------------------------------------------------------


def test_client_that_stops_reading_is_dropped_after_send_timeout(serve_app):
    closed_at: list[float] = []
    chunks: list[int] = []

    class Stream:
        def __iter__(self):
            block = b"s" * 65536
            for index in range(4096):  # 256 MiB, far beyond every buffer on the way
                chunks.append(index)
                yield block

        def close(self):
            closed_at.append(time.monotonic())

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return Stream()

    options = dict(send_timeout=1, channel_timeout=30, outbuf_high_watermark=1048576)
    with serve_app(app, **options) as server:
        sock = server.slow_reader(4096, timeout=5)
        with sock:
            sock.sendall(GET)
            started = time.monotonic()
            assert wait_until(lambda: closed_at, 1 + 2, interval=0.02), (
                "close() not called within send_timeout + 2 s"
            )
            assert closed_at[0] - started <= 1 + 2
            assert server.wait_no_connections()
    assert len(chunks) < 4096  # dropped, not served in full


def test_response_left_to_the_loop_is_dropped_after_send_timeout(serve_app):
    body = b"q" * (4 * 1048576)  # below outbuf_high_watermark: the loop flushes it

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    with serve_app(app, send_timeout=1, channel_timeout=30) as server:
        sock = server.slow_reader(4096, timeout=5)
        with sock:
            sock.sendall(GET)
            started = time.monotonic()
            assert wait_until(lambda: server.server.connections, 5), "never accepted"
            assert not server.wait_no_connections(timeout=0.8), "dropped before send_timeout"
            assert server.wait_no_connections(timeout=1 + SWEEP + 2)
            assert time.monotonic() - started <= 1 + SWEEP + 2


def trickle_reader(sock, stop, received: list[int]) -> None:
    """Read 32 KiB every 0.1 s (320 KiB/s: the window opens well within send_timeout, so
    only the rate rule can end it) until ``stop`` or the server closes."""
    sock.settimeout(1.0)
    for _ in range(1000):  # bounded: 100 s at most
        if stop.is_set():
            return
        try:
            data = sock.recv(32768)
        except TimeoutError:
            continue
        except OSError:
            return
        if not data:
            received.append(-1)  # closed by the server
            return
        received.append(len(data))
        time.sleep(0.1)  # the trickle: this pace is the behaviour under test


@pytest.mark.parametrize("kind", ["stream", "file"])
def test_a_trickling_reader_cannot_hold_a_worker_for_a_large_response(serve_app, tmp_path, kind):
    """The review's case: a client reading a few bytes a second kept a worker for as long
    as a 16 MB response took; send_min_rate bounds it, and the next client is served."""
    big = tmp_path / "big.bin"
    big.write_bytes(b"f" * (16 * 1048576))

    def app(environ, start_response):
        if environ["PATH_INFO"] != "/big":
            return ok_app(environ, start_response)
        if kind == "file":
            start_response("200 OK", [("Content-Length", str(big.stat().st_size))])
            return environ["wsgi.file_wrapper"](big.open("rb"))
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return iter([b"s" * 65536] * 256)

    # A small send buffer (accepted sockets inherit the listener's) lets the server see
    # the reader's progress every read, so send_timeout never fires: only the rate can.
    options = dict(
        threads=1,
        send_timeout=2,
        send_min_rate=2_000_000,
        channel_timeout=60,
        outbuf_high_watermark=1048576,  # the worker waits on the client past 1 MiB queued
        socket_options=[
            (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
            (socket.SOL_SOCKET, socket.SO_SNDBUF, 32768),
        ],
    )
    stop = threading.Event()
    received: list[int] = []
    with serve_app(app, **options) as server:
        sock = server.slow_reader(65536, timeout=5)
        reader = threading.Thread(target=trickle_reader, args=(sock, stop, received))
        try:
            sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            started = time.monotonic()
            reader.start()
            response = server.request(GET, timeout=20)
            assert response.status == 200
            freed_after = time.monotonic() - started
        finally:
            stop.set()
            reader.join(10)
            sock.close()
    assert freed_after < 2 + 10 + SLACK, "the worker was held past the send rate's allowance"
    assert sum(n for n in received if n > 0) < 16 * 1048576


def test_a_trickling_reader_of_a_response_left_to_the_loop_is_dropped(serve_app):
    body = b"q" * (8 * 1048576)  # below outbuf_high_watermark: the loop flushes it

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    options = dict(
        send_timeout=2,
        send_min_rate=2_000_000,
        channel_timeout=60,
        socket_options=[(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)],
    )
    stop = threading.Event()
    received: list[int] = []
    with serve_app(app, **options) as server:
        sock = server.slow_reader(65536, timeout=5)
        reader = threading.Thread(target=trickle_reader, args=(sock, stop, received))
        try:
            sock.sendall(GET)
            started = time.monotonic()
            reader.start()
            assert wait_until(lambda: server.server.connections, 5), "never accepted"
            assert server.wait_no_connections(timeout=2 + 8 + SWEEP + SLACK)
            dropped_after = time.monotonic() - started
        finally:
            stop.set()
            reader.join(10)
            sock.close()
    assert dropped_after > 2, "dropped before send_timeout"
    assert sum(n for n in received if n > 0) < len(body)


# -- many slowloris connections ------------------------------------------------------------


@pytest.fixture
def open_files() -> Iterator[None]:
    """Enough open files for 200 client and 200 server sockets; the old limit restored after."""
    needed = 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        assert hard == resource.RLIM_INFINITY or hard >= needed, f"open-files hard limit {hard}"
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_normal_client_is_served_promptly_beside_200_slowloris_sockets(serve_app, open_files):
    count = 200
    options = dict(header_timeout=1, header_max_timeout=2, header_min_rate=500)
    with serve_app(ok_app, **options) as server:
        started = time.monotonic()
        slow = []
        try:
            for index in range(count):
                sock = socket.create_connection((server.host, server.port), timeout=5)
                slow.append(sock)
                sock.sendall(b"GET /%d HTTP/1.1\r\nHost: x\r\nX-Slow: " % index)
            latencies = []
            for _ in range(5):
                begun = time.monotonic()
                response = server.request(GET, timeout=2)
                latencies.append(time.monotonic() - begun)
                assert response.status == 200
            answers = _read_all_until_closed(slow, started + 2 + 2 + SLACK)
            closed_after = time.monotonic() - started
        finally:
            for sock in slow:
                sock.close()
        assert server.wait_no_connections()
    assert max(latencies) < 0.5, f"normal client latencies {latencies}"
    assert len(answers) == count, f"{count - len(answers)} slowloris sockets left open"
    assert all(data.startswith(b"HTTP/1.1 408 ") for data in answers.values())
    assert all(data.endswith(b"\r\n\r\n" + FIXED_408) for data in answers.values())
    assert closed_after <= 2 + 2 + SLACK


def _read_all_until_closed(socks: list[socket.socket], deadline: float) -> dict[int, bytes]:
    """What each socket received until the server closed it; sockets still open are left out."""
    received = {index: bytearray() for index in range(len(socks))}
    done: dict[int, bytes] = {}
    with selectors.DefaultSelector() as selector:
        for index, sock in enumerate(socks):
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, index)
        while len(done) < len(socks):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for key, _ in selector.select(left):
                index = key.data
                try:
                    data = socks[index].recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionResetError:
                    data = b""
                if data:
                    received[index] += data
                else:
                    done[index] = bytes(received[index])
                    selector.unregister(socks[index])
    return done
