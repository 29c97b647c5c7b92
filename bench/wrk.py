"""Run wrk (one thread, N connections, ``--latency``) and parse its report.

Errors are wrk's socket errors (connect + read + write + timeout) plus its
"Non-2xx or 3xx responses".
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA_DIR = Path(__file__).resolve().parent / "lua"
TIMEOUT = "2s"

_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_P99 = re.compile(r"^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
_TOTAL = re.compile(r"^\s*(\d+) requests in ", re.M)
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured."""

    requests: int
    rps: float
    p99_ms: float | None
    socket_errors: dict[str, int]
    non_2xx: int

    @property
    def errors(self) -> int:
        """Socket errors of every kind plus non-2xx/3xx responses."""
        return sum(self.socket_errors.values()) + self.non_2xx

    def error_detail(self) -> str:
        """The non-zero error counts by kind, e.g. ``timeout 3, non-2xx 1``; empty if none."""
        parts = [f"{k} {v}" for k, v in self.socket_errors.items() if v]
        if self.non_2xx:
            parts.append(f"non-2xx {self.non_2xx}")
        return ", ".join(parts)


class WrkError(Exception):
    """wrk failed or printed a report this module cannot read."""


def parse(report: str) -> WrkResult:
    """Parse wrk's text report; raise WrkError if it has no Requests/sec line."""
    rps = _RPS.search(report)
    total = _TOTAL.search(report)
    if not rps or not total:
        raise WrkError("no 'Requests/sec' in wrk's output: " + " | ".join(report.splitlines()[-3:]))
    p99 = _P99.search(report)
    sock = _SOCKET.search(report)
    non2xx = _NON2XX.search(report)
    kinds = ("connect", "read", "write", "timeout")
    return WrkResult(
        requests=int(total.group(1)),
        rps=float(rps.group(1)),
        p99_ms=float(p99.group(1)) * _UNIT_MS[p99.group(2)] if p99 else None,
        socket_errors={k: int(sock.group(i + 1)) if sock else 0 for i, k in enumerate(kinds)},
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
    )


def command(
    url: str, connections: int, seconds: int, script: str | None, prefix: tuple[str, ...]
) -> list[str]:
    """The wrk command line: 1 thread, ``connections`` connections, ``--latency``."""
    argv = [*prefix, "wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds:g}s"]
    argv += ["--timeout", TIMEOUT, "--latency"]
    if script:
        argv += ["-s", str(LUA_DIR / script)]
    return [*argv, url]


def run(
    url: str,
    connections: int,
    seconds: int,
    script: str | None = None,
    prefix: tuple[str, ...] = (),
) -> WrkResult:
    """Run wrk against ``url`` for ``seconds`` (whole seconds: wrk wants them) and parse it."""
    argv = command(url, connections, seconds, script, prefix)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30)
    except subprocess.TimeoutExpired as exc:
        raise WrkError(f"wrk did not finish within {seconds + 30:g} s") from exc
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()[:2]
        raise WrkError(f"wrk exited {done.returncode}: {' | '.join(said)}")
    return parse(done.stdout)
