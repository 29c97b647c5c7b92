"""The server: listeners, the event loop, the worker pool, and a graceful stop.

A ``Server`` is built from an application and a configuration (objects only), opened
(``open``: the privileged step of ``opening``, unless it is given one already made), then
run.  It is what its connections know as their ``ConnectionHost``.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from functools import partial
from typing import Any

from ..debug_guard import guard
from ..exposure import bound_addresses
from ..hosts.policy import HostPolicy
from ..http import Caches, Request
from ..proxy.forwarded import plain_ip
from ..proxy.policy import PEER_KIND_KEY, ProxyPolicy, TrustedPeers
from ..wsgi.environ import EnvironTemplate, NoAuthorizationTemplate
from ..wsgi.filewrapper import FileWrapper
from .buffers import SpillFiles
from .connection import Connection
from .dates import DateCache
from .descriptors import EXHAUSTED
from .exchange import RequestHandler
from .listeners import Listener
from .loop import READ, EventLoop
from .opening import Opened, open_server
from .settings import ConnectionSettings
from .states import IDLE, WORKER
from .watchdog import Watchdog
from .workers import WorkerPool

logger = logging.getLogger("bastion.server")

_ACCEPT_BATCH = 64
# Temporary files of spilled request bodies are kept for reuse: at most this many,
# each only while it held at most _SPILL_REUSE_FACTOR times inbuf_overflow (4 MiB
# by default); those no body needed for _SPILL_TRIM_INTERVAL seconds are closed.
_SPILL_FILES_KEPT = 64
_SPILL_REUSE_FACTOR = 8
_SPILL_TRIM_INTERVAL = 30.0
# Out of file descriptors, accepting pauses until a connection closes or the next sweep
# (a second later); the condition is logged at most once per this many seconds.
_EXHAUSTED_LOG_INTERVAL = 60.0


class Server:
    """A server for one WSGI application: build it, ``open`` it, ``run`` it."""

    def __init__(
        self, app: Any, config: Any, opened: Opened | None = None, clock: Any = time.time
    ) -> None:
        """Build the server's parts; nothing is bound and the process is not changed.

        ``opened`` is the privileged step already done (``opening.open_server``), for a
        caller that imports the application after it; else ``open`` (or ``run``) does it.
        """
        self.config = config
        # What was checked once (request heads, response headers, ...): this server's alone.
        self.caches = Caches()
        self.settings = ConnectionSettings.from_config(config, self.caches, DateCache(), clock)
        # Everything that can refuse the configuration comes before binding.
        self.handler = RequestHandler(
            app,
            proxy_policy=_proxy_policy(config),
            host_policy=_host_policy(config, self.caches),
            watchdog=Watchdog.from_config(config),
            expose_tracebacks=config.expose_tracebacks,
        )
        self._run_request = self.handler.run
        self.spill_files = SpillFiles(
            keep=_SPILL_FILES_KEPT, max_size=_SPILL_REUSE_FACTOR * config.inbuf_overflow
        )
        self.connection_limit = config.connection_limit
        self.max_per_ip = config.max_connections_per_ip
        self.per_ip: dict[str, int] = {}
        self.max_queued = config.max_queued_requests
        self.stopping = False
        self.accepting = False
        # accept() ran out of descriptors: paused until a connection closes or the sweep.
        self.descriptors_exhausted = False
        self._exhausted_count = 0
        self._exhausted_logged_at = float("-inf")
        self.connections: set[Connection] = set()
        # With the PROXY protocol on, the peers allowed to send its preamble.
        self.preamble_peers = TrustedPeers(config.trusted_proxy) if config.proxy_protocol else None
        self.pool: WorkerPool | None = None
        # How many requests wait for a worker; -1 (never over the limit) when unlimited.
        self.queued_requests = _nothing_queued
        self._put_job: Any = None
        self._deadline = 0.0
        self.opened: Opened | None = None
        self.listeners: list[Listener] = []
        self.templates: dict[Listener, EnvironTemplate] = {}
        self.scheme_templates: dict[tuple[Listener, bool], EnvironTemplate] = {}
        self._accept_callbacks: dict[Listener, Any] = {}
        self.loop = EventLoop()
        if opened is not None:
            self._take(opened)

    @property
    def app(self) -> Any:
        return self.handler.app

    def open(self) -> None:
        """Do the privileged step (``opening.open_server``) unless it was done; idempotent.

        Raises ``PrivilegeError``/``ConfigError`` for a setting that cannot be applied and
        ``OSError`` for an address that cannot be bound; the server is then closed.
        """
        if self.opened is not None:
            return
        try:
            opened = open_server(self.config)
        except BaseException:
            self.close()
            raise
        self._take(opened)

    def _take(self, opened: Opened) -> None:
        """Use what the privileged step made: listeners, access log, environ templates."""
        config = self.config
        self.opened = opened
        self.listeners = opened.listeners
        self.handler.access_log = opened.access_log
        template = EnvironTemplate if config.pass_authorization else NoAuthorizationTemplate
        self.templates = {
            listener: template(
                server_name=listener.server_name,
                server_port=listener.port,
                url_scheme=config.url_scheme,
                url_prefix=config.url_prefix,
                server_software=config.ident,
                file_wrapper=FileWrapper,
                extra={PEER_KIND_KEY: "unix"} if listener.is_unix else None,
                caches=self.caches,
            )
            for listener in self.listeners
        }
        # PROXY v2's SSL TLV decides the scheme of its connection: a template for each answer.
        if config.proxy_protocol:
            self.scheme_templates = {
                (listener, ssl): template.with_url_scheme("https" if ssl else "http")
                for listener, template in self.templates.items()
                for ssl in (False, True)
            }
        self._accept_callbacks = {
            listener: partial(self._on_accept, listener) for listener in self.listeners
        }

    # -- what connections call (ConnectionHost) ----------------------------------------

    def template_for(self, listener: Any, ssl: bool | None) -> EnvironTemplate:
        """The environ template for ``listener``; ``ssl`` from a PROXY v2 preamble's TLV."""
        if ssl is None:
            return self.templates[listener]
        return self.scheme_templates[listener, ssl]

    def submit(self, conn: Connection, request: Request, body: Any, body_length: int) -> bool:
        """Queue ``request`` on ``conn`` for a worker (loop thread); False, queueing nothing,
        when max_queued_requests already wait (load shedding: the connection answers 503)."""
        if self.queued_requests() >= self.max_queued:
            return False
        self._put_job((self._run_request, (conn, request, body, body_length)))
        return True

    def refused(self, conn: Connection, status: int, size: int) -> None:
        """``conn`` answered ``status`` itself: the access log."""
        self.handler.refused(conn, status, size)

    @property
    def urls(self) -> list[str]:
        return [listener.url for listener in self.listeners]

    # -- running ------------------------------------------------------------

    def run(self) -> None:
        """Serve until ``stop`` (or SIGINT/SIGTERM in the main thread); then drain and return.

        Raises ``DebugAppError``, having closed the server, when the application shows debug
        pages to other hosts (see ``bastion.debug_guard``).
        """
        try:
            self.open()
            guard(self.app, self.config, bound_addresses(lst.sock for lst in self.listeners))
        except BaseException:
            self.close()
            raise
        self.pool = WorkerPool(self.config.threads)
        # The loop queues the requests of a round of events; one worker wakes after it.
        self._put_job = self.pool.queue
        self.loop.before_wait = self.pool.wake_for_queued
        if self.max_queued:
            self.queued_requests = self.pool.queued_counter
        restore = self._install_signal_handlers()
        try:
            self._start_accepting()
            self.loop.every(1.0, self._sweep)
            self.loop.every(_SPILL_TRIM_INTERVAL, lambda now: self.spill_files.trim())
            watchdog = self.handler.watchdog
            if watchdog is not None:
                self.loop.every(watchdog.interval, watchdog.check)
            for url in self.urls:
                logger.info("Serving on %s", url)
            self.loop.run()
        finally:
            self.close()
            for signum, handler in restore:
                signal.signal(signum, handler)

    def stop(self) -> None:
        """Begin a graceful stop; callable from any thread."""
        self.loop.call_soon_threadsafe(self._begin_shutdown)

    def _install_signal_handlers(self) -> list[tuple[int, Any]]:
        if threading.current_thread() is not threading.main_thread():
            return []
        restore = []
        for name in ("SIGINT", "SIGTERM"):
            signum = getattr(signal, name, None)
            if signum is not None:
                restore.append((signum, signal.signal(signum, self._on_signal)))
        return restore

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stop()

    def _begin_shutdown(self) -> None:
        if self.stopping:
            return
        logger.info("Shutting down: finishing in-flight requests")
        self.stopping = True
        self._stop_accepting()
        for listener in self.listeners:
            listener.close()
        for conn in list(self.connections):
            if conn.state == IDLE:
                conn.close()
        self._deadline = self.loop.now + self.config.graceful_timeout
        self.loop.every(0.05, self._check_drained)
        self._check_drained(self.loop.now)

    def _check_drained(self, now: float) -> None:
        if not self.connections or now >= self._deadline:
            if self.connections:
                busy = sum(1 for conn in self.connections if conn.state == WORKER)
                logger.warning(
                    "graceful timeout: closing %d connections (%d busy)",
                    len(self.connections),
                    busy,
                )
            self.loop.stop()

    def close(self) -> None:
        """Release everything: connections, listeners, workers, the loop and the log.

        ``run`` does this when it returns; call it for a server that will not run."""
        for conn in list(self.connections):
            conn.close()
        if self.opened is not None:
            self.opened.close()
        if self.pool is not None:
            self.pool.shutdown(timeout=1.0)
        self.loop.close()
        self.spill_files.close()

    # -- accepting ------------------------------------------------------------

    def _start_accepting(self) -> None:
        if self.accepting or self.stopping:
            return
        for listener in self.listeners:
            self.loop.register(listener.sock, READ, self._accept_callbacks[listener])
        self.accepting = True

    def _stop_accepting(self) -> None:
        if not self.accepting:
            return
        for listener in self.listeners:
            self.loop.unregister(listener.sock)
        self.accepting = False

    def _on_accept(self, listener: Listener, mask: int) -> None:
        for _ in range(_ACCEPT_BATCH):
            try:
                sock, addr = listener.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                if error.errno in EXHAUSTED:
                    self._pause_exhausted(error)
                elif self.config.log_socket_errors:
                    logger.warning("accept failed: %s", error)
                return
            sock.setblocking(False)
            if sock.family == socket.AF_INET6:
                # A dual-stack listener names IPv4 clients ::ffff:a.b.c.d.
                addr = (plain_ip(addr[0]), *addr[1:])
            elif sock.family != socket.AF_INET:
                addr = None
            peers = self.preamble_peers
            if peers is not None and not (peers.unix if addr is None else peers.contains(addr[0])):
                # The PROXY protocol is on and this peer may not send a preamble.
                sock.close()
                continue
            conn = Connection(self, self.settings, sock, addr, listener)
            self.connections.add(conn)
            if self.max_per_ip and addr is not None and not self._admit(conn, addr[0]):
                conn.fail(503)  # sent, then lingers so the client reads it before the close
                continue
            conn.watch(READ)
            if len(self.connections) >= self.connection_limit:
                # New connections wait in the kernel's backlog until one closes.
                self._stop_accepting()
                return

    def _pause_exhausted(self, error: OSError) -> None:
        """Out of descriptors: stop accepting (the listener would stay readable and spin)."""
        self._stop_accepting()
        self.descriptors_exhausted = True
        self._exhausted_count += 1
        now = self.loop.now
        if now - self._exhausted_logged_at >= _EXHAUSTED_LOG_INTERVAL:
            logger.error(
                "accept failed: %s; pausing new connections until one closes (%d such "
                "failures since the last report; %d connections open). Raise the open-files "
                "limit or lower connection_limit",
                error.strerror,
                self._exhausted_count,
                len(self.connections),
            )
            self._exhausted_logged_at = now
            self._exhausted_count = 0

    def _admit(self, conn: Connection, ip: str) -> bool:
        """Count ``conn`` against its address's max_connections_per_ip; False past that."""
        policy = self.handler.proxy_policy
        if self.preamble_peers is not None or (policy is not None and policy.peers.contains(ip)):
            return True  # a trusted proxy speaks for many clients
        count = self.per_ip.get(ip, 0)
        if count >= self.max_per_ip:
            return False
        self.per_ip[ip] = count + 1
        conn.ip_key = ip
        return True

    def closed(self, conn: Connection) -> None:
        """A connection closed (loop thread)."""
        self.connections.discard(conn)
        ip = conn.ip_key
        if ip is not None:
            count = self.per_ip[ip] - 1
            if count:
                self.per_ip[ip] = count
            else:
                del self.per_ip[ip]
        if not self.accepting and len(self.connections) < self.connection_limit:
            self._start_accepting()

    def _sweep(self, now: float) -> None:
        for conn in list(self.connections):
            conn.check_timeout(now)
        if self.descriptors_exhausted and len(self.connections) < self.connection_limit:
            self.descriptors_exhausted = False
            self._start_accepting()  # try again; a failing accept pauses again


def _proxy_policy(config: Any) -> ProxyPolicy | None:
    """The trusted-proxy policy, as waitress applies it: when a proxy is trusted, or
    (the default) untrusted proxy headers are to be cleared.  The configuration has
    validated the options and applied the rules between them (bastion.proxy_rules)."""
    if config.trusted_proxy is None and not config.clear_untrusted_proxy_headers:
        return None
    return ProxyPolicy(
        TrustedPeers(config.trusted_proxy or ()),
        config.trusted_proxy_headers,
        config.trusted_proxy_count,
        clear_untrusted=config.clear_untrusted_proxy_headers,
        log_untrusted=config.log_untrusted_proxy_headers,
        mode=config.trusted_proxy_mode,
    )


def _host_policy(config: Any, caches: Caches) -> HostPolicy | None:
    """The trusted-hosts check, when allowed_hosts or allowed_ports asks for one."""
    if config.allowed_hosts is None and config.allowed_ports is None:
        return None
    return HostPolicy(
        config.allowed_hosts,
        config.allowed_ports,
        config.www_redirect,
        config.allowed_hosts_exempt_paths,
        caches=caches,
    )


def _nothing_queued() -> int:
    return -1


def run(app: Any, config: Any) -> None:
    """Serve ``app`` with ``config`` until interrupted."""
    Server(app, config).run()
