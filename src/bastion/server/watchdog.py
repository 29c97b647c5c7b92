"""The request watchdog: logs requests running past ``request_timeout`` and, when asked,
interrupts them (as mod_wsgi's request-timeout and interrupt-timeout do).

Workers call ``begin``/``end`` around each request; the event loop calls ``check``.  An
interrupt is an asynchronous ``RequestTimeout`` raised in the worker thread; CPython
delivers it when that thread next runs Python bytecode, so an application blocked inside
one long C call is interrupted when the call returns.  ``end`` withdraws an interrupt not
yet delivered, under the same lock, so one can never hit a later request or an idle worker.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ..errors import ConfigError, RequestTimeout

logger = logging.getLogger("bastion.server")


class _Running:
    __slots__ = ("interrupted", "logged", "method", "path", "start")

    def __init__(self, method: str, path: str, start: float) -> None:
        self.method = method
        self.path = path
        self.start = start
        self.logged = False
        self.interrupted = False


class Watchdog:
    """Tracks the request each worker thread runs, by thread id."""

    def __init__(self, timeout: float, interrupt: bool) -> None:
        self.timeout = timeout
        self.interrupt = interrupt
        self.interval = min(1.0, max(0.05, timeout / 4))
        self._running: dict[int, _Running] = {}
        self._lock = threading.Lock()
        self._set_async_exc = _async_exc_setter() if interrupt else None

    @classmethod
    def from_config(cls, config: Any) -> Watchdog | None:
        if not config.request_timeout:
            return None
        return cls(config.request_timeout, config.request_timeout_interrupt)

    def begin(self, method: str, path: str) -> None:
        """A worker starts a request (worker thread)."""
        self._running[threading.get_ident()] = _Running(method, path, time.monotonic())

    def end(self) -> None:
        """The worker's request is over; withdraw an interrupt not yet delivered."""
        ident = threading.get_ident()
        with self._lock:
            running = self._running.pop(ident, None)
            if running is not None and running.interrupted:
                self._set_async_exc(ident, None)  # type: ignore[misc]

    def check(self, now: float) -> None:
        """Log, and interrupt if configured, every request past the timeout (loop thread)."""
        timeout = self.timeout
        for ident, running in list(self._running.items()):
            elapsed = now - running.start
            if elapsed < timeout:
                continue
            if not running.logged:
                running.logged = True
                logger.warning(
                    "request %s %s still running after %.1f s%s",
                    running.method,
                    running.path.encode("unicode_escape").decode("ascii"),
                    elapsed,
                    ": interrupting it" if self.interrupt else "",
                )
            if self.interrupt and not running.interrupted:
                with self._lock:
                    if self._running.get(ident) is running:
                        running.interrupted = True
                        self._set_async_exc(ident, RequestTimeout)  # type: ignore[misc]


def _async_exc_setter() -> Any:
    """``set(thread_id, exception_class_or_None)`` through CPython's C API."""
    try:
        import ctypes

        raw = ctypes.pythonapi.PyThreadState_SetAsyncExc
    except (ImportError, AttributeError):
        raise ConfigError(
            "request_timeout_interrupt needs CPython (PyThreadState_SetAsyncExc)",
            "request_timeout_interrupt",
        ) from None
    # No argtypes: ctypes passes None as NULL, which withdraws a pending exception.
    ulong, pyobj = ctypes.c_ulong, ctypes.py_object

    def set_async_exc(ident: int, exc: Any) -> None:
        raw(ulong(ident), None if exc is None else pyobj(exc))

    return set_async_exc
