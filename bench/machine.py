"""What the benchmark runs on: cores, CPU model, versions, CPU pinning and the fd limit."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
from dataclasses import dataclass
from importlib import metadata

SERVER_CPU = 0
LOAD_CPU = 1


@dataclass(frozen=True)
class Pinning:
    """Where the server and the load generator run; empty prefixes when pinning is off."""

    server_prefix: tuple[str, ...]
    load_prefix: tuple[str, ...]
    description: str


def pinning() -> Pinning:
    """Pin the server to CPU 0 and wrk (and this harness) to CPU 1 when taskset and 2 CPUs exist."""
    cpus = os.sched_getaffinity(0)
    if shutil.which("taskset") and {SERVER_CPU, LOAD_CPU} <= cpus:
        os.sched_setaffinity(0, {LOAD_CPU})
        return Pinning(
            ("taskset", "-c", str(SERVER_CPU)),
            ("taskset", "-c", str(LOAD_CPU)),
            f"server pinned to CPU {SERVER_CPU} (taskset -c {SERVER_CPU}), "
            f"wrk and the harness to CPU {LOAD_CPU} (taskset -c {LOAD_CPU})",
        )
    return Pinning((), (), "NOT pinned (needs taskset and CPUs 0 and 1): figures are noisier")


def raise_fd_limit(wanted: int = 65536) -> int:
    """Raise the soft RLIMIT_NOFILE towards ``wanted`` (capped by the hard limit); return it.

    Server subprocesses inherit the raised limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or the platform's processor string."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def dist_version(dist: str) -> str | None:
    """Return the installed version of a distribution, or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def wrk_version() -> str:
    """Return wrk's version string (its first word after ``wrk``), or ``missing``."""
    if not shutil.which("wrk"):
        return "missing"
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
    words = (out.stdout + out.stderr).split()
    return words[1] if len(words) > 1 and words[0] == "wrk" else "unknown"


def describe(dists: list[str]) -> str:
    """One line naming cores, CPU, kernel, Python, wrk and each installed distribution's version."""
    versions = ", ".join(f"{d} {dist_version(d) or 'not installed'}" for d in dists)
    return (
        f"{os.cpu_count()} cores, {cpu_model()}, Linux {platform.release()}; "
        f"Python {platform.python_version()}; wrk {wrk_version()}; {versions}"
    )
