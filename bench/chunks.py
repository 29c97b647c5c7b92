"""Chunked request bodies: de-chunking speed, and other clients' latency under a flood.

Run pinned, as a script or a module::

    taskset -c 1 python bench/chunks.py            # the engine alone, one core
    python bench/chunks.py --flood                 # plus a real server under a flood

The first part feeds the sans-IO parser 4 MB of chunked body per chunk size, in 256 KiB
reads as the server does, and prints wire MB/s and chunks/s.  ``--flood`` starts
``python -m bastion`` (core 0), has a second process (core 1) stream 1-byte chunks to it
as fast as it can, and times plain GETs from this process meanwhile: the median and
worst latency are what one abusive uploader costs everyone else.  The last line is
machine-readable: ``chunks one_byte_chunks_per_s=N [flood_median_ms=M flood_max_ms=X]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

from bastion.http import NEED_DATA, RequestParser
from bastion.http.limits import Limits

HEAD = b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
READ = 262144
HOST = "127.0.0.1"


def dechunk_rate(size: int, wire_bytes: int = 4_000_000) -> tuple[float, float]:
    """(wire MB/s, chunks/s) for a body of ``size``-byte chunks, best of three rounds."""
    piece = b"%x\r\n" % size + b"a" * size + b"\r\n"
    count = max(1, wire_bytes // len(piece))
    body = piece * count
    best = float("inf")
    for _ in range(3):
        parser = RequestParser(Limits(max_body_size=1 << 40))
        parser.feed(HEAD)
        parser.next_event()
        started = time.perf_counter()
        for start in range(0, len(body), READ):
            parser.feed(body[start : start + READ])
            for _ in range(len(body)):  # bounded: at least one byte per event
                if parser.next_event() is NEED_DATA:
                    break
        best = min(best, time.perf_counter() - started)
    return len(body) / best / 1e6, count / best


FLOODER = """
import socket, sys, time
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
sock.sendall(b"POST /up HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n")
block = b"1\\r\\na\\r\\n" * 100000
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    sock.sendall(block)
"""


def _get(port: int) -> float:
    started = time.perf_counter()
    with socket.create_connection((HOST, port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        for _ in range(1000):  # bounded: until the server closes
            if not sock.recv(65536):
                break
    return time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def flood_latency(seconds: float = 5.0) -> tuple[float, float]:
    """(median, max) seconds of a GET while another client floods 1-byte chunks."""
    port = _free_port()
    server = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", "bastion", "--listen", f"{HOST}:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    flooder = None
    try:
        for _ in range(200):  # bounded wait for the listener
            try:
                socket.create_connection((HOST, port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        flooder = subprocess.Popen(
            ["taskset", "-c", "1", sys.executable, "-c", FLOODER, str(port), str(seconds)]
        )
        time.sleep(0.5)
        latencies = []
        deadline = time.monotonic() + seconds - 1.0
        while time.monotonic() < deadline:
            latencies.append(_get(port))
            time.sleep(0.02)
        return statistics.median(latencies), max(latencies)
    finally:
        for proc in (flooder, server):
            if proc is not None:
                proc.terminate()
                proc.wait(10)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python bench/chunks.py", description=__doc__)
    parser.add_argument("--flood", action="store_true", help="also time GETs under a flood")
    args = parser.parse_args(argv)
    one_byte = 0.0
    for size in (1, 16, 1024, 65536):
        mbps, per_second = dechunk_rate(size)
        print(f"chunks of {size:>6} bytes: {mbps:8.1f} MB/s on the wire, {per_second:>11,.0f}/s")
        if size == 1:
            one_byte = per_second
    line = f"chunks one_byte_chunks_per_s={one_byte:.0f}"
    if args.flood:
        median, worst = flood_latency()
        print(f"GET beside a 1-byte-chunk flood: median {median * 1e3:.1f} ms,", end=" ")
        print(f"max {worst * 1e3:.1f} ms")
        line += f" flood_median_ms={median * 1e3:.1f} flood_max_ms={worst * 1e3:.1f}"
    print(line)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
