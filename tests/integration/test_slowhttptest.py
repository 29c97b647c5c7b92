"""bastion under the real slowhttptest (slow headers and slow body), beside a normal client.

bastion runs as a subprocess serving its demo page; slowhttptest opens 1,000 connections that
trickle a request head (``-H``) or body (``-B``) while a client thread makes a request every
0.1 s.  The test reads slowhttptest's CSV (connections closed / pending / connected, service
available, per second) and its final status, and asserts that the service stayed available,
that bastion cut the slow connections off, and that it is healthy afterwards.  The figures are
printed (``pytest -s`` shows them).  Every process started here is stopped by PID.
"""

from __future__ import annotations

import csv
import functools
import http.client
import os
import re
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bastion_testing import (
    CLI,
    clean_env,
    find_tool,
    free_port,
    stop_process,
    wait_for_port,
    wait_until,
)

HOST = "127.0.0.1"
CONNECTIONS = 1000
HEADER_TIMEOUT = 5
HEADER_MAX_TIMEOUT = 10
BODY_TIMEOUT = 5
ATTACK_SECONDS = 20  # slowhttptest -l: an upper bound, bastion ends it much sooner
OPEN_FILES = 4096  # each process holds up to CONNECTIONS sockets, plus its own files
CLIENT_INTERVAL = 0.1
CLIENT_TIMEOUT = 5.0
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@pytest.fixture
def open_files() -> Iterator[int]:
    """Raise this process's open-files limit (children inherit it); restore it afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < OPEN_FILES:
        new_hard = hard
        if hard != resource.RLIM_INFINITY and hard < OPEN_FILES:
            new_hard = OPEN_FILES  # only a privileged process may raise the hard limit
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, new_hard))
        except (ValueError, OSError) as error:
            pytest.fail(f"cannot raise the open-files limit to {OPEN_FILES} (hard {hard}): {error}")
    try:
        yield resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@dataclass
class Bastion:
    proc: subprocess.Popen
    port: int
    log: Path

    def fds(self) -> int:
        """How many files (sockets included) the server process holds open."""
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))


@pytest.fixture
def bastion(tmp_path: Path, open_files: int) -> Iterator[Bastion]:
    """``python -m bastion`` with short slow-client timeouts, serving the demo page."""
    port = free_port(HOST)
    log = tmp_path / "bastion.log"
    argv = [
        sys.executable,
        *CLI,
        "--listen",
        f"{HOST}:{port}",
        "--header-timeout",
        str(HEADER_TIMEOUT),
        "--header-max-timeout",
        str(HEADER_MAX_TIMEOUT),
        "--body-timeout",
        str(BODY_TIMEOUT),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, cwd=tmp_path, env=clean_env(), stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
    try:
        output = functools.partial(log.read_text, errors="replace")
        wait_for_port(proc, HOST, port, name="bastion", output=output, timeout=15)
        yield Bastion(proc, port, log)
    finally:
        stop_process(proc)


class NormalClient(threading.Thread):
    """Makes ``GET /`` on a new connection every CLIENT_INTERVAL s; records status and latency."""

    def __init__(self, port: int, limit: int = 1200) -> None:
        super().__init__(name="normal-client", daemon=True)
        self.port = port
        self.limit = limit  # at most this many requests (2 minutes' worth)
        self.results: list[tuple[int, float]] = []  # (status, seconds); status 0 = error
        self.errors: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        for index in range(self.limit):
            self.results.append(self.fetch())
            pause = started + (index + 1) * CLIENT_INTERVAL - time.monotonic()
            if self.halt.wait(max(pause, 0.0)):
                return

    def fetch(self) -> tuple[int, float]:
        begun = time.monotonic()
        conn = http.client.HTTPConnection(HOST, self.port, timeout=CLIENT_TIMEOUT)
        try:
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            return response.status, time.monotonic() - begun
        except OSError as error:
            self.errors.append(f"{type(error).__name__}: {error}")
            return 0, time.monotonic() - begun
        finally:
            conn.close()


@dataclass
class Attack:
    """What slowhttptest reported."""

    rows: list[dict[str, int]] = field(default_factory=list)  # its CSV, one row a second
    status: dict[str, str] = field(default_factory=dict)  # its last status block (every -i s)
    exit_status: str = ""
    ended_on: int = -1  # the second the test ended on
    seconds: float = 0.0  # wall-clock time it ran

    @property
    def peak_connected(self) -> int:
        return max(row["Connected"] for row in self.rows)

    @property
    def always_available(self) -> bool:
        return all(row["Service Available"] > 0 for row in self.rows)


def run_slowhttptest(mode: str, port: int, tmp_path: Path) -> Attack:
    prefix = tmp_path / f"slowhttptest-{mode.strip('-')}"
    argv = [
        find_tool("slowhttptest"),
        mode,
        "-c",
        str(CONNECTIONS),
        "-i",
        "5",
        "-r",
        "500",
        "-l",
        str(ATTACK_SECONDS),
        "-x",
        "24",
        "-p",
        "3",
        "-u",
        f"http://{HOST}:{port}/",
        "-g",
        "-o",
        str(prefix),
    ]
    begun = time.monotonic()
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        output, _ = proc.communicate(timeout=ATTACK_SECONDS + 20)
    finally:
        stop_process(proc)
    attack = Attack(seconds=time.monotonic() - begun)
    text = ANSI.sub("", output.decode("utf-8", "replace"))
    assert proc.returncode == 0, f"slowhttptest failed ({proc.returncode}):\n{text[-3000:]}"
    last_block = text.rpartition("slow HTTP test status on")[2]
    for name, value in re.findall(r"^(\w[\w ]*?):\s+(\S+)\s*$", last_block, re.MULTILINE):
        attack.status[name.strip()] = value
    found = re.search(r"Exit status:\s*(.+)", text)
    attack.exit_status = found.group(1).strip() if found else ""
    found = re.search(r"Test ended on (\d+)", text)
    attack.ended_on = int(found.group(1)) if found else -1
    with open(f"{prefix}.csv", newline="") as report:
        attack.rows = [{k: int(v) for k, v in row.items()} for row in csv.DictReader(report)]
    assert attack.rows, f"slowhttptest wrote no statistics:\n{text[-3000:]}"
    return attack


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))]


# The latest a slow connection may be cut off, from its start: the header deadline is capped;
# the body's is not, but slowhttptest sends far under body_min_rate bytes (1 s per 500).
CUTOFFS = {"-H": HEADER_MAX_TIMEOUT, "-B": BODY_TIMEOUT + 1}


@pytest.mark.parametrize("mode", ["-H", "-B"], ids=["slow-headers", "slow-body"])
def test_slowhttptest_leaves_the_service_available(bastion, tmp_path, mode):
    client = NormalClient(bastion.port)
    # The port accepts once bound, before the app, the loop and the workers exist: the
    # baseline is taken once a request has been answered.
    assert client.fetch()[0] == 200
    baseline_fds = bastion.fds()
    client.start()
    try:
        attack = run_slowhttptest(mode, bastion.port, tmp_path)
    finally:
        client.halt.set()
        client.join(CLIENT_TIMEOUT + 5)
    assert not client.is_alive()

    statuses = [status for status, _ in client.results]
    latencies = [seconds for _, seconds in client.results]
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    final = attack.rows[-1]
    print(
        f"\nslowhttptest {mode} against bastion (header_timeout={HEADER_TIMEOUT}, "
        f"header_max_timeout={HEADER_MAX_TIMEOUT}, body_timeout={BODY_TIMEOUT}):\n"
        f"  connections held at peak: {attack.peak_connected} of {CONNECTIONS}\n"
        f"  ended on second {attack.ended_on} ({attack.seconds:.1f} s): {attack.exit_status}\n"
        f"  last CSV row (second {final['Seconds']}): closed {final['Closed']}, "
        f"pending {final['Pending']}, connected {final['Connected']}; "
        f"errors at the last status: {attack.status.get('error')}\n"
        f"  service available every second: {attack.always_available}\n"
        f"  normal client: {len(statuses)} requests, {statuses.count(200)} x 200, "
        f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )

    # The attack really held the connections ...
    assert attack.peak_connected >= 0.9 * CONNECTIONS
    # ... and bastion closed every one of them, long before the attack's own time limit.
    assert attack.exit_status == "No open connections left"
    # Connections open over CONNECTIONS / 500 s; the sweep adds up to 1 s; 1 s of slack.
    assert attack.ended_on <= CONNECTIONS / 500 + CUTOFFS[mode] + 2
    closed = [row["Closed"] for row in attack.rows]
    assert closed == sorted(closed) and closed[-1] > 0
    assert attack.status.get("service available") == "YES"
    assert attack.always_available
    # The normal client was served throughout, promptly.
    assert len(statuses) >= attack.seconds / CLIENT_INTERVAL * 0.5
    assert statuses == [200] * len(statuses), f"errors: {client.errors[:5]}"
    assert p99 < 1.0
    # bastion is healthy afterwards and holds no leftover connection.
    assert bastion.proc.poll() is None
    status, _ = client.fetch()
    assert status == 200
    assert wait_until(lambda: bastion.fds() <= baseline_fds + 2, 5, interval=0.1), (
        f"{bastion.fds()} descriptors open, {baseline_fds} before the attack"
    )
    assert "Traceback" not in bastion.log.read_text(errors="replace")
