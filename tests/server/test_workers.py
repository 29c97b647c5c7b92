"""The worker pool: every job runs once, none is stranded by the one-wake-at-a-time rule."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest
from bastion_testing import wait_until

from bastion.server import workers
from bastion.server.workers import WorkerPool


@pytest.fixture
def frequent_thread_switches():
    """Switch threads as often as CPython allows, to bring out races."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def test_every_job_runs_exactly_once_across_idle_periods(frequent_thread_switches):
    pool = WorkerPool(3)
    done: list[int] = []
    lock = threading.Lock()

    def job(n: int) -> None:
        with lock:
            done.append(n)

    try:
        expected = 0
        for burst in range(2000):
            # Bursts of different sizes, each after the workers have gone idle again:
            # a lost wake-up would leave jobs queued and this wait would time out.
            for _ in range(burst % 7 + 1):
                pool.put((job, (expected,)))
                expected += 1
            wait_until(lambda n=expected: len(done) >= n, 5, interval=0.0005)
            assert len(done) == expected, f"burst {burst}: {expected - len(done)} jobs stranded"
        assert sorted(done) == list(range(expected))
    finally:
        assert pool.shutdown(timeout=5)


@pytest.mark.parametrize("deferred", [False, True], ids=["put", "queue-then-wake"])
def test_a_burst_wakes_every_idle_worker(deferred):
    # One wake-up wakes one worker; the others must be woken in a chain, or these
    # three jobs, which each wait for all three to be running, would never meet.
    pool = WorkerPool(3)
    barrier = threading.Barrier(3, timeout=5)
    met = []
    try:
        assert wait_until(lambda: len(pool._idle) == 3, 5), "the workers never all went idle"
        for _ in range(3):
            job = (lambda: met.append(barrier.wait()), ())
            (pool.queue if deferred else pool.put)(job)
        if deferred:
            # Nothing may happen, so nothing can be awaited: give a woken worker time to run.
            time.sleep(0.1)
            assert met == [] and pool.queued == 3  # queued, nobody woken
            assert len(pool._idle) == 3
            pool.wake_for_queued()
        wait_until(lambda: len(met) >= 3, 6, interval=0.001)
        assert sorted(met) == [0, 1, 2]
        pool.wake_for_queued()  # nothing queued: a no-op
    finally:
        assert pool.shutdown(timeout=5)


def test_jobs_from_several_threads_at_once(frequent_thread_switches):
    pool = WorkerPool(4)
    counter = [0]
    lock = threading.Lock()

    def job() -> None:
        with lock:
            counter[0] += 1

    def producer() -> None:
        for _ in range(2000):
            pool.put((job, ()))

    producers = [threading.Thread(target=producer) for _ in range(3)]
    try:
        for thread in producers:
            thread.start()
        for thread in producers:
            thread.join(10)
        wait_until(lambda: counter[0] >= 6000, 10, interval=0.001)
        assert counter[0] == 6000
    finally:
        assert pool.shutdown(timeout=5)


def test_queued_counts_jobs_not_yet_taken_and_a_failing_job_spares_its_worker(caplog):
    pool = WorkerPool(1)
    gate = threading.Event()
    ran = threading.Event()

    def boom() -> None:
        raise RuntimeError("job failed")

    try:
        pool.put((gate.wait, (5,)))
        assert wait_until(lambda: pool.queued == 0, 5, interval=0.001)  # the worker took it
        pool.put((boom, ()))
        pool.put((ran.set, ()))
        assert pool.queued == 2
        assert pool.queued_counter() == 2
        gate.set()
        assert ran.wait(5), "the worker died with the failing job"
        assert "unhandled error in worker thread" in caplog.text
    finally:
        assert pool.shutdown(timeout=5)


def test_shutdown_finishes_queued_jobs_then_stops_every_thread():
    pool = WorkerPool(2)
    finished = []
    for n in range(20):
        pool.put((finished.append, (n,)))
    assert pool.shutdown(timeout=5)
    assert sorted(finished) == list(range(20))
    assert not any(thread.is_alive() for thread in pool._threads)


def test_a_job_queued_while_a_worker_goes_idle_is_not_stranded(monkeypatch):
    # Reproduce the race exactly: the job arrives after the worker found the queue
    # empty but before it announced itself idle, so the put wakes nobody.
    ran = threading.Event()
    state = {"pool": None, "armed": False}

    class RacyDeque(workers.deque):
        def popleft(self):
            try:
                return super().popleft()
            except IndexError:
                if state["armed"] and threading.current_thread().name.startswith("race"):
                    state["armed"] = False
                    state["pool"].put((ran.set, ()))
                raise

    monkeypatch.setattr(workers, "deque", RacyDeque)
    pool = WorkerPool(1, name="race")
    state["pool"] = pool
    try:
        assert wait_until(lambda: len(pool._idle) == 1, 5), "the worker never went idle"
        state["armed"] = True
        pool.put((time.sleep, (0.01,)))  # wakes it; its next empty pop triggers the race
        assert ran.wait(5), "the job queued in the race window was never run"
    finally:
        assert pool.shutdown(timeout=5)


def test_shutdown_closes_the_sleepers_pipes():
    before = len(os.listdir("/proc/self/fd"))
    pool = WorkerPool(3)
    assert len(os.listdir("/proc/self/fd")) == before + 6
    pool.put((time.sleep, (0.01,)))
    assert pool.shutdown(timeout=5)
    assert pool.shutdown(timeout=5)  # twice is harmless
    assert len(os.listdir("/proc/self/fd")) == before
