"""The event loop: one thread, one selector, a wake-up socket and periodic timers.

Everything registered here is a file object whose ``data`` is a callback
``callback(mask)``.  Other threads never touch the selector: they hand work to
the loop with ``call_soon_threadsafe``, which wakes it through a socketpair.
"""

from __future__ import annotations

import logging
import selectors
import socket
import time
from collections import deque
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("bastion.server")

READ = selectors.EVENT_READ
WRITE = selectors.EVENT_WRITE


def _nothing() -> None:
    pass


class EventLoop:
    """A selectors loop; ``run`` returns once ``stop`` has been called."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self._wake_recv, self._wake_send = socket.socketpair()
        self._wake_recv.setblocking(False)
        self._wake_send.setblocking(False)
        self.selector.register(self._wake_recv, READ, self._on_wake)
        self._pending: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._woken = False
        self._running = False
        self._timers: list[tuple[float, float, Callable[[float], Any]]] = []
        self.now = time.monotonic()
        #: Called once per round of events, before the loop waits for more.
        self.before_wait: Callable[[], Any] = _nothing

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run ``callback(*args)`` after this round of events (loop thread only)."""
        self._pending.append((callback, args))

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run ``callback(*args)`` on the loop thread; callable from any thread."""
        self._pending.append((callback, args))
        if not self._woken:
            self._woken = True
            try:
                self._wake_send.send(b"\0")
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                pass  # loop already closed

    def every(self, interval: float, callback: Callable[[float], Any]) -> None:
        """Call ``callback(now)`` on the loop thread about every ``interval`` seconds."""
        self._timers.append((interval, time.monotonic() + interval, callback))

    def register(self, fileobj: Any, events: int, callback: Callable[[int], Any]) -> None:
        self.selector.register(fileobj, events, callback)

    def modify(self, fileobj: Any, events: int, callback: Callable[[int], Any]) -> None:
        self.selector.modify(fileobj, events, callback)

    def unregister(self, fileobj: Any) -> None:
        self.selector.unregister(fileobj)

    def stop(self) -> None:
        """Make ``run`` return after the current iteration; callable from any thread."""
        self.call_soon_threadsafe(self._set_stopped)

    def _set_stopped(self) -> None:
        self._running = False

    def _on_wake(self, mask: int) -> None:
        try:
            while self._wake_recv.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _run_pending(self) -> None:
        pending = self._pending
        self._woken = False
        for _ in range(len(pending)):
            callback, args = pending.popleft()
            try:
                callback(*args)
            except Exception:
                logger.exception("error in event loop callback")

    def _next_timeout(self) -> float | None:
        if self._pending:
            return 0.0
        if not self._timers:
            return None
        due = min(timer[1] for timer in self._timers)
        return max(0.0, due - time.monotonic())

    def _run_timers(self, now: float) -> None:
        timers = self._timers
        for index, (interval, due, callback) in enumerate(timers):
            if due <= now:
                timers[index] = (interval, now + interval, callback)
                try:
                    callback(now)
                except Exception:
                    logger.exception("error in event loop timer")

    def run(self) -> None:
        """Dispatch events until ``stop``."""
        self._running = True
        select = self.selector.select
        while self._running:
            events = select(self._next_timeout())
            self.now = now = time.monotonic()
            for key, mask in events:
                try:
                    key.data(mask)
                except Exception:
                    logger.exception("error in event loop handler")
            if self._pending:
                self._run_pending()
            if self._timers:
                self._run_timers(now)
            self.before_wait()

    def close(self) -> None:
        self.selector.close()
        self._wake_recv.close()
        self._wake_send.close()
