"""The connection state table (bastion.server.states) and a connection held to it.

The connections here are built from settings and a stand-in host, with no server: what a
connection needs is its ``ConnectionSettings`` and the few calls of ``ConnectionHost``.
"""

from __future__ import annotations

import types

import pytest

from bastion.config import Config
from bastion.server import states
from bastion.server.connection import Connection
from bastion.server.settings import ConnectionSettings
from bastion.server.states import (
    BODY,
    CLOSED,
    FLUSHING,
    IDLE,
    LINGERING,
    TRANSITIONS,
    WORKER,
    StateError,
)

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
ALL = (IDLE, BODY, WORKER, FLUSHING, LINGERING, CLOSED)


class Host:
    """A ConnectionHost that records what the connection asks of it."""

    def __init__(self, shedding: bool = False) -> None:
        self.loop = types.SimpleNamespace(
            now=1.0,
            register=lambda *a: None,
            modify=lambda *a: None,
            unregister=lambda *a: None,
            call_soon=lambda *a: None,
            call_soon_threadsafe=lambda callback, *args: callback(*args),
        )
        self.spill_files = None
        self.stopping = False
        self._shedding = shedding
        self.submitted: list[tuple[str, int]] = []
        self.refusals: list[int] = []
        self.closed_connections: list[Connection] = []

    def template_for(self, listener, ssl):
        return None

    def submit(self, conn, request, body, body_length) -> bool:
        if self._shedding:
            return False
        self.submitted.append((request.path, conn.state))
        return True

    def refused(self, conn, status, size) -> None:
        self.refusals.append(status)

    def closed(self, conn) -> None:
        self.closed_connections.append(conn)


class Sock:
    """Hands out ``data`` once, then would block; takes everything sent."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.sent = b""

    def recv(self, size: int) -> bytes:
        if not self.data:
            raise BlockingIOError
        data, self.data = self.data[:size], self.data[size:]
        return data

    def send(self, data) -> int:
        self.sent += bytes(data)
        return len(data)

    def shutdown(self, how: int) -> None:
        pass

    def close(self) -> None:
        pass


def connection(data: bytes, host: Host | None = None) -> tuple[Connection, Host, Sock]:
    host = host or Host()
    sock = Sock(data)
    settings = ConnectionSettings.from_config(Config.from_kwargs())
    return Connection(host, settings, sock, ("127.0.0.1", 1), None), host, sock


def test_every_live_state_may_close_and_a_closed_one_goes_nowhere():
    for state in ALL[:-1]:
        assert (state, CLOSED) in TRANSITIONS
    assert not [pair for pair in TRANSITIONS if pair[0] == CLOSED]


@pytest.mark.parametrize(
    ("old", "new"),
    [(LINGERING, IDLE), (WORKER, BODY), (CLOSED, IDLE), (FLUSHING, WORKER), (BODY, IDLE)],
)
def test_a_move_the_table_lacks_is_refused(old, new):
    conn, _, _ = connection(b"")
    conn.state = old
    with pytest.raises(StateError, match=f"{states.NAMES[old]} to {states.NAMES[new]}"):
        conn.enter(new)
    assert conn.state == old


def test_a_request_goes_from_idle_to_a_worker_and_back():
    conn, host, _ = connection(GET)
    conn._read()
    assert host.submitted == [("/", WORKER)]
    conn.hand_back()
    assert conn.state == IDLE


def test_a_body_is_buffered_on_the_loop_before_the_worker_gets_it():
    conn, host, sock = connection(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab")
    conn._read()
    assert conn.state == BODY and host.submitted == []
    sock.data = b"cde"
    conn._read()
    assert host.submitted == [("/up", WORKER)]


def test_load_shedding_answers_503_from_idle_and_never_reaches_a_worker():
    conn, host, sock = connection(GET, Host(shedding=True))
    conn._read()
    assert host.submitted == []
    assert host.refusals == [503]
    assert sock.sent.startswith(b"HTTP/1.1 503 ")
    assert conn.state == LINGERING


def test_a_malformed_head_is_refused_then_the_connection_lingers_and_closes():
    conn, host, _ = connection(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n")
    conn._read()
    assert host.refusals == [400]
    assert conn.state == LINGERING
    conn.close()
    assert conn.state == CLOSED and host.closed_connections == [conn]
    conn.close()  # closing twice is no move at all
    assert host.closed_connections == [conn]
