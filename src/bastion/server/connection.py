"""One client connection: reading requests on the loop, writing responses on a worker.

Ownership is explicit and one thread at a time:
- the loop owns the connection while it is idle, reading a head or a body it
  buffers, flushing a response a worker could not finish, or lingering before
  close;
- a worker owns it from ``dispatch`` until ``hand_back``.
The parser never sees bytes read while a response is being written: the loop
does not read a connection a worker owns.

The socket stays registered for reading while a worker owns it, which saves
two selector calls per request.  Should it become readable during that time
(a pipelined request, or the client closing), the loop *pauses* it: it stops
watching until the worker hands back.  A keep-alive connection with nothing
left to send and nothing buffered is handed back without waking the loop; the
``turn`` lock makes that hand-back and a pause exclusive.

A connection knows the server only through two narrow things: its frozen
``ConnectionSettings`` and a ``ConnectionHost`` (the loop, the spill files, and the few
calls by which it submits a request, reports a refusal and reports its end).  Its states
and their transitions are in ``states``.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from typing import Any, Protocol

from ..http import (
    CONNECTION_CLOSED,
    CONTINUE,
    NEED_DATA,
    Data,
    ProtocolError,
    Request,
    RequestParser,
    error_page,
)
from ..proxy.protocol import ProxyProtocolError, parse_proxy_header
from ..wsgi.environ import EnvironTemplate
from ..wsgi.input import EMPTY_INPUT, ClientDisconnected
from .buffers import OutputQueue, SpillBuffer, SpillFiles
from .loop import READ, WRITE, EventLoop
from .settings import ConnectionSettings
from .states import BODY, CLOSED, FLUSHING, IDLE, LINGERING, TRANSITIONS, WORKER, refuse, sources

_TO_WORKER = sources(WORKER)
_TO_IDLE = sources(IDLE)

_LINGER_SECONDS = 2.0
# Bytes of a file handed to one os.sendfile call.
_SENDFILE_BLOCK = 1 << 20
# Not on every platform (Windows has no sendmsg): then head and body go in two sends.
_sendmsg = getattr(socket.socket, "sendmsg", None)


class ConnectionHost(Protocol):
    """What a connection needs of the server that accepted it."""

    loop: EventLoop
    spill_files: SpillFiles
    stopping: bool

    def submit(self, conn: Connection, request: Request, body: Any, body_length: int) -> bool:
        """Queue ``request`` (``body_length`` bytes of ``body``) on ``conn`` for a worker;
        False when load shedding refuses it."""

    def refused(self, conn: Connection, status: int, size: int) -> None:
        """The connection answered ``status`` itself (``size`` bytes): the access log."""

    def closed(self, conn: Connection) -> None:
        """The connection closed (loop thread)."""

    def template_for(self, listener: Any, ssl: bool | None) -> EnvironTemplate:
        """The environ template for ``listener``; ``ssl`` as the PROXY preamble says."""


class Connection:
    """State of one accepted socket."""

    __slots__ = (
        "addr",
        "body",
        "events",
        "host",
        "ip_key",
        "keep_alive",
        "last_activity",
        "listener",
        "outq",
        "parser",
        "paused",
        "peer",
        "phase_bytes",
        "phase_start",
        "preamble",
        "remote_addr",
        "remote_port",
        "request",
        "settings",
        "sock",
        "state",
        "template",
        "turn",
    )

    def __init__(
        self,
        host: ConnectionHost,
        settings: ConnectionSettings,
        sock: socket.socket,
        addr: Any,
        listener: Any,
    ) -> None:
        self.host = host
        self.settings = settings
        self.sock = sock
        self.addr = addr
        self.listener = listener
        self.template = host.template_for(listener, None)
        if isinstance(addr, tuple):
            self.remote_addr = addr[0]
            self.remote_port = str(addr[1])
        else:  # unix socket peer
            self.remote_addr = "127.0.0.1"
            self.remote_port = "0"
        # The immediate peer's address when the PROXY protocol replaced remote_addr.
        self.peer: str | None = None
        # The address counted against max_connections_per_ip, if any.
        self.ip_key: str | None = None
        self.parser = RequestParser(settings.limits, settings.caches)
        self.outq: OutputQueue | None = None
        self.body: SpillBuffer | None = None
        self.request: Request | None = None
        self.keep_alive = True
        self.state = IDLE
        self.events = 0
        self.paused = False
        # PROXY protocol: the preamble's bytes so far, until it is complete; else None.
        self.preamble: bytearray | None = bytearray() if settings.proxy_protocol else None
        self.turn = threading.Lock()
        now = host.loop.now
        self.last_activity = now
        # The slow-client clock: when the current request head (or body) began, and how
        # many of its bytes have arrived.  phase_start 0.0 means idle between requests.
        self.phase_start = now
        self.phase_bytes = 0

    def enter(self, state: int) -> None:
        """Move to ``state``; a move ``states.TRANSITIONS`` does not list is a StateError."""
        if (self.state, state) not in TRANSITIONS:
            raise refuse(self.state, state)
        self.state = state

    # -- loop side --------------------------------------------------------

    def watch(self, events: int) -> None:
        """Register interest in ``events`` (0 = none) with the loop."""
        if events == self.events:
            return
        loop = self.host.loop
        if not self.events:
            loop.register(self.sock, events, self.on_event)
        elif not events:
            loop.unregister(self.sock)
        else:
            loop.modify(self.sock, events, self.on_event)
        self.events = events

    def on_event(self, mask: int) -> None:
        if self.state == WORKER and self._pause():
            return
        if mask & WRITE:
            self._flush_some()
        elif self.state == LINGERING:
            self._linger_read()
        else:
            self._read()

    def _pause(self) -> bool:
        """Stop watching a connection a worker owns; False if the worker just handed it back."""
        with self.turn:
            if self.state != WORKER:
                return False
            self.paused = True
            self.watch(0)
            return True

    def _read(self) -> None:
        settings = self.settings
        try:
            data = self.sock.recv(
                settings.body_recv_bytes if self.state == BODY else settings.recv_bytes
            )
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        self.last_activity = now = self.host.loop.now
        if data:
            if self.phase_start:
                self.phase_bytes += len(data)
            else:  # the first bytes of a new head: its clock owes nothing to earlier requests
                self.phase_start = now
                self.phase_bytes = len(data)
            if self.preamble is not None:
                data = self._take_preamble(data)
                if data is None:
                    return
            self.parser.feed(data)
        else:
            self.parser.feed_eof()
        self.advance()

    def _take_preamble(self, data: bytes) -> bytes | None:
        """Consume the PROXY protocol preamble; the bytes after it, or None for more/closed."""
        buf = self.preamble
        buf += data  # type: ignore[operator]
        try:
            parsed = parse_proxy_header(buf)  # type: ignore[arg-type]
        except ProxyProtocolError:
            self.close()
            return None
        if parsed is None:
            return None
        consumed, info = parsed
        if info.command == "PROXY" and info.source_addr is not None:
            if isinstance(self.addr, tuple):
                self.peer = self.remote_addr
            self.remote_addr = info.source_addr
            self.remote_port = str(info.source_port)
        if info.ssl is not None:
            self.template = self.host.template_for(self.listener, info.ssl)
        self.preamble = None
        return bytes(buf[consumed:])

    def advance(self) -> None:
        """Turn buffered bytes into work: dispatch a complete request or wait for more."""
        parser = self.parser
        while True:
            try:
                event = parser.next_event()
            except ProtocolError as error:
                self.fail(error.status)
                return
            if event is NEED_DATA:
                self.watch(READ)
                return
            kind = type(event)
            if kind is Request:
                request: Request = event  # type: ignore[assignment]
                if not request.content_length and not request.chunked:  # no body
                    parser.next_event()  # the EndOfMessage of a body-less request
                    self.dispatch(request, EMPTY_INPUT, 0)
                    return
                if request.expect_continue and not parser.buffered and not self._send_continue():
                    return
                self.request = request
                self.body = SpillBuffer(self.settings.inbuf_overflow, self.host.spill_files)
                self.enter(BODY)
                self.phase_start = self.host.loop.now
                self.phase_bytes = 0
            elif kind is Data:
                self.body.write(event.data)  # type: ignore[union-attr,attr-defined]
                if self.request.chunked and parser.buffered:  # type: ignore[union-attr]
                    # De-chunking costs per chunk: one event's worth per round of the
                    # loop, so a flood of tiny chunks cannot starve other connections.
                    self.watch(0)
                    self.host.loop.call_soon(self._resume_body)
                    return
            elif event is CONNECTION_CLOSED:
                self.close()
                return
            else:  # EndOfMessage of a buffered body
                request, body = self.request, self.body
                self.request = self.body = None
                length = len(body)  # type: ignore[arg-type]
                self.dispatch(request, body.as_input(), length)  # type: ignore[arg-type,union-attr]
                return

    def _send_continue(self) -> bool:
        """Send ``100 Continue`` from the loop; False (and closed) if the client cannot take it.

        The body is then buffered here like any other, so a client that never sends it
        holds no worker thread, only its slow-client clock.  Nothing else is queued on a
        connection reading a head, so the 25 bytes fit in the socket's buffer unless the
        client stopped reading long ago.
        """
        try:
            sent = self.sock.send(CONTINUE)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            sent = -1
        if sent != len(CONTINUE):
            self.close()
            return False
        return True

    def _resume_body(self) -> None:
        if self.state == BODY:
            self.advance()

    def dispatch(self, request: Request, body: Any, body_length: int) -> None:
        """Hand the connection to a worker for ``request``, whose body is ``body_length``
        bytes (or answer 503 when shedding)."""
        state = self.state
        if state not in _TO_WORKER:  # states.TRANSITIONS, inlined on the hot path
            raise refuse(state, WORKER)
        self.state = WORKER
        if not self.host.submit(self, request, body, body_length):
            self.state = state  # it never left the loop
            close = getattr(body, "close", None)
            if close is not None:
                close()
            self.fail(503)
            return
        self.phase_start = 0.0
        if not self.events:
            # Paused while the last request ran: watch again, so that the worker's
            # hand-back can rely on the loop seeing the next bytes.
            self.watch(READ)

    def fail(self, status: int) -> None:
        """Answer with the fixed response for ``status`` (a 503 carries Retry-After) and close."""
        settings = self.settings
        self.keep_alive = False
        head, body = error_page(
            status,
            settings.date.format(settings.clock()),
            settings.ident,
            settings.retry_after if status == 503 else (),
        )
        self.queue_output(head + body)
        # The access log counts body bytes, as for every other response.
        self.host.refused(self, status, len(body))
        self.finish_on_loop()

    def queue_output(self, data: bytes) -> None:
        if self.outq is None:
            self.outq = OutputQueue(self.settings.outbuf_overflow)
        self.outq.append(data)

    def release(self) -> None:
        """Loop side of a worker's hand-back: flush leftovers, then continue or close."""
        if self.state == CLOSED:
            return
        self.paused = False
        self.last_activity = self.host.loop.now
        self.phase_start = 0.0
        self.finish_on_loop()

    def finish_on_loop(self) -> None:
        if self.outq:
            if self.state != FLUSHING:
                self.enter(FLUSHING)
                # The send clock: send_timeout plus one second per send_min_rate bytes.
                self.phase_start = self.host.loop.now
                self.phase_bytes = 0
            self.watch(WRITE)
            self._flush_some()
            return
        if not self.keep_alive:
            self.linger()
            return
        if self.state != IDLE:  # a hand-back already made it IDLE
            self.enter(IDLE)
        self.phase_start = 0.0  # idle until the next head's first byte
        if self.host.stopping:
            self.close()
            return
        self.advance()

    def _flush_some(self) -> None:
        outq = self.outq
        sent_before = self.phase_bytes
        try:
            while outq:
                sent = self.sock.send(outq.peek(self.settings.send_bytes))
                outq.consume(sent)
                self.phase_bytes += sent
        except (BlockingIOError, InterruptedError):
            if self.phase_bytes != sent_before:  # progress: send_timeout counts from here
                self.last_activity = self.host.loop.now
            return
        except OSError:
            self.close()
            return
        self.last_activity = self.host.loop.now
        outq.close()
        self.outq = None
        self.finish_on_loop()

    def linger(self) -> None:
        """Half-close and read briefly, so the client sees our response, not a reset."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close()
            return
        self.enter(LINGERING)
        self.last_activity = self.host.loop.now
        self.watch(READ)

    def _linger_read(self) -> None:
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.close()

    def check_timeout(self, now: float) -> None:
        """Loop timer: enforce channel_timeout and the slow-client timeouts (mod_reqtimeout's)."""
        state = self.state
        if state == WORKER:
            return
        settings = self.settings
        if state == LINGERING:
            if now - self.last_activity > _LINGER_SECONDS:
                self.close()
        elif now - self.last_activity > settings.channel_timeout:
            self.close()  # inactive, as waitress's channel_timeout means
        elif state == IDLE:
            start = self.phase_start
            if not start:
                if not self.parser.buffered:
                    return  # idle keep-alive connection between requests
                # Part of a pipelined head arrived with the previous request.
                start = self.phase_start = now
                self.phase_bytes = self.parser.buffered
            if now > start + settings.header_allowance(self.phase_bytes):
                if self.phase_bytes:
                    self.fail(408)
                else:
                    self.close()  # nothing received: no response to give
        elif state == BODY:
            if now > self.phase_start + settings.body_allowance(self.phase_bytes):
                self.fail(408)
        elif state == FLUSHING and (
            now - self.last_activity > settings.send_timeout
            or now > self.phase_start + settings.send_allowance(self.phase_bytes)
        ):
            self.close()

    def close(self) -> None:
        """Close the socket and forget the connection (loop thread only)."""
        if self.state == CLOSED:
            return
        self.enter(CLOSED)
        if self.events:
            try:
                self.host.loop.unregister(self.sock)
            except (KeyError, ValueError):
                pass
            self.events = 0
        try:
            self.sock.close()
        except OSError:
            pass
        if self.outq is not None:
            self.outq.close()
            self.outq = None
        if self.body is not None:
            self.body.close()
            self.body = None
        self.host.closed(self)

    # -- worker side --------------------------------------------------------

    def send(self, data: bytes | memoryview) -> None:
        """Send from a worker: straight to the socket, queueing only what would block."""
        outq = self.outq
        if outq:
            outq.append(data)
            if len(outq) > self.settings.outbuf_high_watermark:
                self.flush_blocking()
            return
        try:
            sent = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as error:
            raise ClientDisconnected(str(error)) from None
        if sent < len(data):
            self.queue_output(memoryview(data)[sent:] if sent else data)

    def send_two(self, head: bytes, body: bytes) -> None:
        """Send ``head`` then ``body`` in one system call where the platform has sendmsg."""
        if self.outq or _sendmsg is None:
            self.send(head)
            self.send(body)
            return
        try:
            sent = self.sock.sendmsg((head, body))
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as error:
            raise ClientDisconnected(str(error)) from None
        if sent < len(head):
            self.queue_output(memoryview(head)[sent:] if sent else head)
            self.queue_output(body)
        elif sent < len(head) + len(body):
            self.queue_output(memoryview(body)[sent - len(head) :])

    def flush_blocking(self) -> None:
        """Send everything queued, as fast as the client takes it (worker only).

        Each wait lasts at most send_timeout, and the whole flush at most send_timeout
        plus one second per send_min_rate bytes sent: a client that reads a trickle
        cannot hold the worker for a large response.
        """
        outq = self.outq
        if not outq:
            return
        sock = self.sock
        settings = self.settings
        started = time.monotonic()
        done = 0
        try:
            while outq:
                left = started + settings.send_allowance(done) - time.monotonic()
                if left <= 0:
                    raise ClientDisconnected("the client reads its response too slowly")
                sock.settimeout(min(left, settings.send_timeout))
                sent = sock.send(outq.peek(settings.send_bytes))
                outq.consume(sent)
                done += sent
        except OSError as error:
            raise ClientDisconnected(str(error)) from None
        finally:
            sock.settimeout(0.0)

    def send_file(self, file: Any, offset: int, count: int) -> int:
        """Send up to ``count`` bytes of a regular file from ``offset``; the bytes sent.

        Worker only, and only where ``os.sendfile`` and ``select.poll`` exist (not
        Windows).  The same limits as :meth:`flush_blocking` apply; fewer bytes than
        ``count`` means the file ended early.
        """
        self.flush_blocking()
        settings = self.settings
        out, source = self.sock.fileno(), file.fileno()
        started = time.monotonic()
        done = 0
        poller = None
        while done < count:
            try:
                sent = os.sendfile(out, source, offset + done, min(count - done, _SENDFILE_BLOCK))
            except (BlockingIOError, InterruptedError):
                sent = -1
            except OSError as error:
                raise ClientDisconnected(str(error)) from None
            if sent > 0:
                done += sent
                continue
            if sent == 0:
                break  # the file is shorter than it was
            left = started + settings.send_allowance(done) - time.monotonic()
            if left <= 0:
                raise ClientDisconnected("the client reads its response too slowly")
            if poller is None:
                poller = select.poll()
                poller.register(out, select.POLLOUT)
            if not poller.poll(min(left, settings.send_timeout) * 1000.0):
                raise ClientDisconnected("send timeout")
        return done

    def hand_back(self) -> None:
        """End the worker's turn: back to idle, or to the loop to flush, parse or close."""
        host = self.host
        if self.keep_alive and not self.outq and not self.parser.buffered and not host.stopping:
            with self.turn:
                self.last_activity = host.loop.now
                if self.state not in _TO_IDLE:  # states.TRANSITIONS, inlined on the hot path
                    raise refuse(self.state, IDLE)
                self.state = IDLE
                self.phase_start = 0.0
                if not self.paused:
                    return
        host.loop.call_soon_threadsafe(self.release)

    def abort_from_worker(self) -> None:
        """End the worker's turn on a dead client: the loop closes the socket."""
        self.host.loop.call_soon_threadsafe(self.close)
