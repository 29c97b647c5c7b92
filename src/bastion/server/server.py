"""The server: listeners, the event loop, the worker pool, and a graceful stop."""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from functools import partial
from typing import Any

from .._forwarded import plain_ip
from ..debug_guard import guard
from ..errors import ConfigError
from ..exposure import bound_addresses
from ..http import Caches, Limits
from ..privileges import drop_privileges, prepare_process
from ..proxy_headers import PEER_KIND_KEY, ProxyPolicy, TrustedPeers
from ..trusted_hosts import HostPolicy
from ..wsgi.environ import EnvironTemplate, NoAuthorizationTemplate
from ..wsgi.filewrapper import FileWrapper
from .access_log import AccessLog
from .buffers import SpillFiles
from .connection import IDLE, WORKER, Connection
from .dates import DateCache
from .descriptors import EXHAUSTED, fit_open_files_limit
from .listeners import Listener, create_listeners
from .loop import READ, EventLoop
from .watchdog import Watchdog
from .workers import WorkerPool

logger = logging.getLogger("bastion.server")

_ACCEPT_BATCH = 64
# Request bodies are read in blocks at least this large: reading a 1 MiB upload
# 8 KiB at a time costs four times the CPU of reading it in 256 KiB blocks.
_BODY_RECV_BYTES = 262144
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
    """A bound, ready-to-run server for one WSGI application."""

    def __init__(self, app: Any, config: Any, clock: Any = time.time) -> None:
        self.app = app
        self.config = config
        self.clock = clock
        self.date = DateCache()  # the Date header's text, formatted once a second
        self.limits = Limits(
            max_request_line=config.max_request_line,
            max_header_size=config.max_request_header_size,
            max_header_fields=config.max_request_header_fields,
            max_body_size=config.max_request_body_size,
        )
        # What was checked once (request heads, response headers, ...): this server's alone.
        self.caches = Caches()
        self.recv_bytes = config.recv_bytes
        self.body_recv_bytes = max(config.recv_bytes, _BODY_RECV_BYTES)
        self.send_bytes = config.send_bytes
        self.inbuf_overflow = config.inbuf_overflow
        self.spill_files = SpillFiles(
            keep=_SPILL_FILES_KEPT, max_size=_SPILL_REUSE_FACTOR * config.inbuf_overflow
        )
        self.outbuf_overflow = config.outbuf_overflow
        self.outbuf_high_watermark = config.outbuf_high_watermark
        self.channel_timeout = config.channel_timeout
        # A stalled reader is also an inactive connection, so channel_timeout bounds it too.
        self.send_timeout = min(config.send_timeout, config.channel_timeout)
        self.header_allowance = _allowance(
            config.header_timeout, config.header_min_rate, config.header_max_timeout
        )
        self.body_allowance = _allowance(
            config.body_timeout, config.body_min_rate, config.body_max_timeout
        )
        # Seconds a response may take to reach a client that holds it up, by bytes sent.
        self.send_allowance = (
            _allowance(self.send_timeout, config.send_min_rate, 0.0)
            if config.send_min_rate
            else _unlimited
        )
        self.connection_limit = config.connection_limit
        self.max_per_ip = config.max_connections_per_ip
        self.per_ip: dict[str, int] = {}
        self.max_queued = config.max_queued_requests
        self.retry_after_header = (("Retry-After", str(config.retry_after)),)
        self.expose_tracebacks = config.expose_tracebacks
        self.ident = config.ident or None
        self.stopping = False
        self.accepting = False
        # accept() ran out of descriptors: paused until a connection closes or the sweep.
        self.descriptors_exhausted = False
        self._exhausted_count = 0
        self._exhausted_logged_at = float("-inf")
        self.connections: set[Connection] = set()
        # Everything that can refuse the configuration comes before binding.
        self.proxy_policy = _proxy_policy(config)
        self.host_policy = _host_policy(config, self.caches)
        # With the PROXY protocol on, the peers allowed to send its preamble.
        self.preamble_peers = TrustedPeers(config.trusted_proxy) if config.proxy_protocol else None
        self.watchdog = Watchdog.from_config(config)
        self.pool: WorkerPool | None = None
        # How many requests wait for a worker; -1 (never over the limit) when unlimited.
        self.queued_requests = _nothing_queued
        self._deadline = 0.0
        self.access_log: AccessLog | None = None
        self.listeners: list[Listener] = []
        prepare_process(config)
        fit_open_files_limit(config.connection_limit)
        self.loop = EventLoop()
        try:
            self.listeners = create_listeners(config)
            # Opened before the privilege drop, as Apache opens its logs.
            self.access_log = AccessLog.from_config(config)
            drop_privileges(config, self.listeners)
        except BaseException:
            self.close()
            raise
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
        self.scheme_templates = {
            (listener, ssl): template.with_url_scheme("https" if ssl else "http")
            for listener, template in self.templates.items()
            for ssl in (False, True)
            if config.proxy_protocol
        }
        self._accept_callbacks = {
            listener: partial(self._on_accept, listener) for listener in self.listeners
        }

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
            if self.watchdog is not None:
                self.loop.every(self.watchdog.interval, self.watchdog.check)
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
        for listener in self.listeners:
            listener.close()
        if self.pool is not None:
            self.pool.shutdown(timeout=1.0)
        self.loop.close()
        self.spill_files.close()
        if self.access_log is not None:
            self.access_log.close()

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
            conn = Connection(self, sock, addr, listener)
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
        if self.preamble_peers is not None or (
            self.proxy_policy is not None and self.proxy_policy.peers.contains(ip)
        ):
            return True  # a trusted proxy speaks for many clients
        count = self.per_ip.get(ip, 0)
        if count >= self.max_per_ip:
            return False
        self.per_ip[ip] = count + 1
        conn.ip_key = ip
        return True

    def forget(self, conn: Connection) -> None:
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
    (the default) untrusted proxy headers are to be cleared."""
    if config.trusted_proxy is None and not config.clear_untrusted_proxy_headers:
        return None
    try:
        return ProxyPolicy.from_options(
            trusted_proxy=config.trusted_proxy,
            trusted_proxy_count=config.trusted_proxy_count,
            trusted_proxy_headers=config.trusted_proxy_headers,
            clear_untrusted=config.clear_untrusted_proxy_headers,
            log_untrusted=config.log_untrusted_proxy_headers,
            trusted_proxy_mode=config.trusted_proxy_mode,
            implicit_proto=False,  # the config already applied waitress's implicit default
        )
    except ValueError as error:
        raise ConfigError(str(error)) from None


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


def _unlimited(sent: int) -> float:
    return float("inf")


def _allowance(timeout: float, min_rate: int, max_timeout: float) -> Any:
    """Seconds allowed for a request head or body of which ``n`` bytes arrived so far:
    ``timeout``, plus one second per ``min_rate`` bytes, capped at ``max_timeout`` (0: none)."""
    if not min_rate:
        return lambda received: timeout
    cap = max(max_timeout, timeout) if max_timeout else float("inf")
    return lambda received: min(timeout + received / min_rate, cap)


def run(app: Any, config: Any) -> None:
    """Serve ``app`` with ``config`` until interrupted."""
    Server(app, config).run()
