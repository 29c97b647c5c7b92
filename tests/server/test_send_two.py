"""Connection.send_two: head and body in one sendmsg, the unsent rest queued in order."""

from __future__ import annotations

import types

import pytest

from bastion.http import Caches, Limits
from bastion.server import connection as connection_module
from bastion.server.connection import Connection


class ShortSock:
    """Accepts ``accept`` bytes of the next sendmsg and records what it was given."""

    def __init__(self, accept: int) -> None:
        self.accept = accept
        self.sent = b""

    def sendmsg(self, buffers):
        data = b"".join(bytes(b) for b in buffers)
        if self.accept == 0:
            raise BlockingIOError
        self.sent += data[: self.accept]
        return min(self.accept, len(data))

    def send(self, data):
        if self.accept == 0:
            raise BlockingIOError
        count = min(self.accept, len(data))
        self.sent += bytes(data[:count])
        self.accept -= count
        return count


def make_connection(sock) -> Connection:
    server = types.SimpleNamespace(
        templates={None: None},
        limits=Limits(),
        caches=Caches(),
        preamble_peers=None,
        loop=types.SimpleNamespace(now=0.0),
        outbuf_overflow=1 << 20,
        outbuf_high_watermark=1 << 24,
    )
    return Connection(server, sock, ("127.0.0.1", 1), None)


def pending(conn: Connection) -> bytes:
    outq = conn.outq
    if outq is None:
        return b""
    data = b""
    while outq:
        piece = bytes(outq.peek(1 << 20))
        outq.consume(len(piece))
        data += piece
    return data


HEAD, BODY = b"HTTP/1.1 200 OK\r\n\r\n", bytes(range(256)) * 400


@pytest.mark.parametrize("accept", [0, 5, len(HEAD), len(HEAD) + 7, len(HEAD) + len(BODY)])
def test_what_is_not_sent_is_queued_in_order(accept):
    sock = ShortSock(accept)
    conn = make_connection(sock)
    conn.send_two(HEAD, BODY)
    assert sock.sent + pending(conn) == HEAD + BODY


def test_without_sendmsg_it_sends_twice(monkeypatch):
    monkeypatch.setattr(connection_module, "_sendmsg", None)
    sock = ShortSock(len(HEAD) + 3)
    conn = make_connection(sock)
    conn.send_two(HEAD, BODY)
    assert sock.sent == HEAD + BODY[:3]
    assert sock.sent + pending(conn) == HEAD + BODY
