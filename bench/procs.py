"""Process trees from /proc: descendants of a PID, their summed VmRSS, and a peak-RSS sampler.

The peak is the maximum, over samples taken every ``interval`` seconds from a thread, of the sum
of VmRSS of the root process and all its descendants (the tree is rescanned every second).
"""

from __future__ import annotations

import os
import threading
import time

_TREE_REFRESH = 1.0


def _parent_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields resume after the last ")".
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    """Return the PIDs of every live descendant of ``pid`` (not ``pid`` itself)."""
    children = _parent_map()
    found: list[int] = []
    todo = list(children.get(pid, ()))
    while todo and len(found) < 10_000:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, ()))
    return found


def rss_bytes(pid: int) -> int:
    """Return the VmRSS of ``pid`` in bytes, or 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def alive(pid: int) -> bool:
    """Tell whether ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 :][:1] != b"Z"


class PeakRss:
    """Sample the summed RSS of a process tree in a daemon thread; ``peak`` is the maximum seen."""

    def __init__(self, pid: int, interval: float = 0.1, max_seconds: float = 900.0) -> None:
        self.pid = pid
        self.peak = 0
        self.last = 0
        self._interval = interval
        self._max_samples = int(max_seconds / interval)
        self._tree: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)

    def start(self) -> PeakRss:
        """Start sampling; returns self."""
        self._thread.start()
        return self

    def sample(self) -> int:
        """Take one sample now (also called by the thread) and return it."""
        total = rss_bytes(self.pid) + sum(rss_bytes(p) for p in self._tree)
        self.last = total
        self.peak = max(self.peak, total)
        return total

    def stop(self) -> int:
        """Stop sampling and return the peak in bytes."""
        self._stop.set()
        self._thread.join(timeout=5)
        return self.peak

    def _run(self) -> None:
        refreshed = 0.0
        for _ in range(self._max_samples):
            now = time.monotonic()
            if now - refreshed >= _TREE_REFRESH:
                self._tree = descendants(self.pid)
                refreshed = now
            self.sample()
            if self._stop.wait(self._interval):
                return
