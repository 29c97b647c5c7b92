"""A fixed pool of worker threads that run applications.

Jobs wait in a deque.  Idle workers sleep on a pipe each, and at most one of them is
being woken at any time: the event loop queues a whole batch of requests and wakes
one worker once the batch is queued (:meth:`WorkerPool.queue`, then
:meth:`WorkerPool.wake_for_queued` before it waits for more events), and each worker
that takes a job wakes the next idle one if jobs remain.  A thread woken earlier
(for every job, or at the first job of a batch) preempts the loop only to wait for
the GIL the loop still holds: two context switches for nothing.  For the same
reason the wake-up is a byte written to the sleeper's pipe, not a lock released:
``os.write`` lets go of the GIL for the system call, so the woken worker can take it
at once.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("bastion.server")

_STOP = object()


class _Sleeper:
    """Where one idle worker sleeps: a pipe, one byte per wake-up."""

    __slots__ = ("_read", "_write")

    def __init__(self) -> None:
        self._read, self._write = os.pipe()

    def wait(self) -> None:
        os.read(self._read, 1)

    def wake(self) -> None:
        os.write(self._write, b"\0")

    def close(self) -> None:
        if self._read >= 0:
            os.close(self._read)
            os.close(self._write)
            self._read = self._write = -1


class WorkerPool:
    """``threads`` daemon threads taking ``(function, args)`` jobs in order."""

    def __init__(self, threads: int, name: str = "bastion-worker") -> None:
        self._jobs: deque[Any] = deque()
        self._idle: deque[_Sleeper] = deque()  # the sleepers of idle workers
        self._waking = False  # a worker was woken and has not taken its job yet
        #: How many jobs wait for a worker (for the hot path: the deque's own __len__).
        self.queued_counter = self._jobs.__len__
        #: Queue a job without waking anyone (call wake_for_queued after the batch); the
        #: deque's own append, as the loop calls it for every request.
        self.queue: Callable[[tuple[Callable[..., None], tuple[Any, ...]]], None] = (
            self._jobs.append
        )
        self._sleepers = [_Sleeper() for _ in range(threads)]
        self._threads = [
            threading.Thread(target=self._work, args=(sleeper,), name=f"{name}-{i}", daemon=True)
            for i, sleeper in enumerate(self._sleepers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def queued(self) -> int:
        return len(self._jobs)

    def put(self, job: tuple[Callable[..., None], tuple[Any, ...]] | object) -> None:
        """Queue ``job``, a ``(function, args)`` pair; wake an idle worker if none is waking."""
        self._jobs.append(job)
        if not self._waking and self._idle:
            self._wake()

    def wake_for_queued(self) -> None:
        """Wake an idle worker if jobs wait and none is being woken."""
        if self._jobs and not self._waking and self._idle:
            self._wake()

    def _wake(self) -> None:
        try:
            sleeper = self._idle.popleft()
        except IndexError:  # another thread took the last idle worker
            return
        self._waking = True
        sleeper.wake()

    def _work(self, sleep: _Sleeper) -> None:
        jobs, idle = self._jobs, self._idle
        while True:
            try:
                job = jobs.popleft()
            except IndexError:
                # Go idle; look again after announcing it, so a job queued in between
                # is not left waiting for a wake-up that nobody sends.
                idle.append(sleep)
                if jobs:
                    try:
                        idle.remove(sleep)
                    except ValueError:  # already chosen: take the wake-up sent to us
                        sleep.wait()
                        self._waking = False
                    continue
                sleep.wait()
                self._waking = False
                continue
            if jobs and idle and not self._waking:
                self._wake()
            if job is _STOP:
                return
            try:
                job[0](*job[1])  # type: ignore[index]
            except BaseException:  # a job must never kill its worker
                logger.exception("unhandled error in worker thread")

    def shutdown(self, timeout: float) -> bool:
        """Stop the workers once the queued jobs are done; True if all stopped in time."""
        for _ in self._threads:
            self._jobs.append(_STOP)
        for _ in self._threads:
            self._wake()
        deadline = time.monotonic() + timeout
        stopped = True
        for thread, sleeper in zip(self._threads, self._sleepers, strict=True):
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():  # still in a job: it may sleep again, keep its pipe
                stopped = False
            else:
                sleeper.close()
        return stopped
