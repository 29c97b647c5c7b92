"""A fixed pool of worker threads that run applications."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("bastion.server")

_STOP = object()


class WorkerPool:
    """``threads`` daemon threads taking ``(function, args)`` jobs from one queue.

    ``queued`` counts jobs not yet taken.
    """

    def __init__(self, threads: int, name: str = "bastion-worker") -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        #: How many jobs wait for a worker (the queue's own qsize, for the hot path).
        self.queued_counter = self._queue.qsize
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def size(self) -> int:
        return len(self._threads)

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def submit(self, function: Callable[..., None], *args: Any) -> None:
        """Run ``function(*args)`` on the next free worker."""
        self._queue.put((function, args))

    @property
    def put(self) -> Callable[[tuple[Callable[..., None], tuple[Any, ...]]], None]:
        """The queue's own put: ``put((function, args))``, one call less per job."""
        return self._queue.put

    def _work(self) -> None:
        get = self._queue.get
        while True:
            job = get()
            if job is _STOP:
                return
            try:
                job[0](*job[1])
            except BaseException:  # a job must never kill its worker
                logger.exception("unhandled error in worker thread")

    def shutdown(self, timeout: float) -> bool:
        """Stop the workers once the queued jobs are done; True if all stopped in time."""
        for _ in self._threads:
            self._queue.put(_STOP)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)
