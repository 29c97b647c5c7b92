"""Out of file descriptors: the accept loop pauses instead of spinning, and says so once.

The review's case: a soft ``ulimit -n 100`` with the default connection_limit (10,000) and
150 idle connections made the loop spin at 100% CPU, logging 250,000 lines in 5 s.  Here
bastion runs under ``prlimit --nofile=100:100`` (soft and hard, so it cannot raise it).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import pytest
from bastion_testing import CLI, Subprocess, clean_env, find_tool, free_port

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc; uses prlimit")

HOST = "127.0.0.1"
IDLE_CONNECTIONS = 150
WATCH_SECONDS = 2.0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def limited_bastion(tmp_path: Path, nofile: int, *options: str) -> tuple[Subprocess, int]:
    port = free_port(HOST)
    argv = [
        find_tool("prlimit"),
        f"--nofile={nofile}:{nofile}",
        sys.executable,
        *CLI,
        "--listen",
        f"{HOST}:{port}",
        *options,
    ]
    process = Subprocess(argv, cwd=tmp_path, env=clean_env(), name="bastion")
    process.wait_for_port(HOST, port)
    return process, port


def get(port: int, timeout: float = 5.0) -> bytes:
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)


def test_start_up_warns_when_connection_limit_exceeds_the_open_files_limit(tmp_path):
    with limited_bastion(tmp_path, 100)[0] as process:
        process.wait_for("open-files limit")
        assert "connection_limit is 10000" in process.output


def test_no_warning_when_the_limit_can_be_raised_to_fit(tmp_path):
    port = free_port(HOST)
    argv = [find_tool("prlimit"), "--nofile=100:4096", sys.executable, *CLI]
    argv += ["--listen", f"{HOST}:{port}", "--connection-limit", "1000"]
    with Subprocess(argv, cwd=tmp_path, env=clean_env(), name="bastion") as process:
        process.wait_for_port(HOST, port)
        assert get(port).startswith(b"HTTP/1.1 200 ")
        limits = Path(f"/proc/{process.proc.pid}/limits").read_text()
        soft = next(line for line in limits.splitlines() if "open files" in line).split()[3]
        assert int(soft) == 1000 + 128, "raised as far as connection_limit needs, not further"
        assert "open-files limit" not in process.output


def test_descriptor_exhaustion_pauses_accepting_without_spinning(tmp_path):
    process, port = limited_bastion(tmp_path, 100)
    idle: list[socket.socket] = []
    with process:
        try:
            for _ in range(IDLE_CONNECTIONS):
                idle.append(socket.create_connection((HOST, port), timeout=5))
            # The server takes what it can, then runs out of descriptors and pauses.
            process.wait_for("Too many open files", timeout=10)
            lines_before = len(process.lines)
            cpu_before = cpu_seconds(process.proc.pid)
            time.sleep(WATCH_SECONDS)  # a window of time to measure the paused loop's CPU in
            cpu_used = cpu_seconds(process.proc.pid) - cpu_before
            assert cpu_used < 0.25 * WATCH_SECONDS, f"the loop spun: {cpu_used:.2f} s of CPU"
            assert len(process.lines) - lines_before <= 2, process.describe()
            assert "Too many open files" in process.output
            assert process.output.count("Too many open files") <= 2
            # Connections that close free descriptors: accepting resumes and a new
            # client is served.
            for sock in idle[:100]:
                sock.close()
            assert get(port, timeout=10).startswith(b"HTTP/1.1 200 ")
        finally:
            for sock in idle:
                sock.close()
