"""Run the matrix of scenarios x servers and collect one Result per cell.

Each cell gets a freshly started server (so its peak RSS is its own), a warm-up wrk run whose
figures are discarded, then the measured wrk run. A cell with idle connections first measures
the same load without them (its baseline req/s and peak RSS), then opens them and measures again.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from bench import idle, servers, wrk
from bench.machine import Pinning
from bench.scenarios import Scenario
from bench.servers import ServerSpec


@dataclass
class Result:
    """One server in one scenario; ``status`` is ``ok`` or why there is no figure."""

    server: str
    scenario: str
    status: str = "ok"
    rps: float = 0.0
    p99_ms: float | None = None
    errors: int = 0
    error_detail: str = ""
    peak_rss: int = 0
    idle_alive: int | None = None
    baseline_rps: float = 0.0
    baseline_rss: int = 0
    note: str = ""

    @property
    def ok(self) -> bool:
        """True when the cell has a measured figure."""
        return self.status == "ok"


def _load(
    res: Result, scenario: Scenario, server: servers.Running, seconds: int, pin: Pinning
) -> None:
    url = server.url + scenario.path
    out = wrk.run(url, scenario.connections, seconds, scenario.script, pin.load_prefix)
    res.rps, res.p99_ms = out.rps, out.p99_ms
    res.errors, res.error_detail = out.errors, out.error_detail()


def _measure(
    res: Result,
    scenario: Scenario,
    server: servers.Running,
    seconds: int,
    warmup: int,
    pin: Pinning,
) -> None:
    if warmup > 0:
        url = server.url + scenario.path
        wrk.run(url, scenario.connections, warmup, scenario.script, pin.load_prefix)
    if not scenario.idle:
        _load(res, scenario, server, seconds, pin)
        return
    # The baseline: the same load on the same process before the idle connections exist.
    _load(res, scenario, server, seconds, pin)
    res.baseline_rps = res.rps
    res.baseline_rss = max(server.rss.peak, server.rss.sample())
    with idle.hold(servers.HOST, server.port, scenario.idle) as held:
        _load(res, scenario, server, seconds, pin)
        res.idle_alive = held.alive()
        res.note = held.error


def run_one(
    spec: ServerSpec,
    scenario: Scenario,
    port: int,
    seconds: int,
    warmup: int,
    pin: Pinning,
) -> Result:
    """Start ``spec``, load it as ``scenario`` says, stop it, and return the result."""
    res = Result(spec.name, scenario.name)
    if not spec.installed():
        res.status = "not installed"
        return res
    try:
        with servers.running(spec, port, pin.server_prefix, idle=scenario.idle > 0) as srv:
            _measure(res, scenario, srv, seconds, warmup, pin)
            srv.rss.sample()
            code = srv.proc.poll()
            if code is not None:
                res.status = f"exited ({code}) under load"
                res.note = f"the server exited with code {code} during the load; " + res.note
        res.peak_rss = srv.rss.peak
    except servers.StartError as exc:
        res.status, res.note = "did not start", str(exc)
    except wrk.WrkError as exc:
        res.status, res.note = "wrk failed", str(exc)
    return res


def run_all(
    specs: list[ServerSpec],
    scenarios: list[Scenario],
    seconds: int,
    warmup: int,
    pin: Pinning,
) -> list[Result]:
    """Run every scenario for every server (scenario by scenario); report progress on stderr."""
    ports = servers.PortAllocator()
    results = []
    for scenario in scenarios:
        for spec in specs:
            res = run_one(spec, scenario, ports.next(), seconds, warmup, pin)
            figure = f"{res.rps:,.0f} req/s, {res.errors} errors" if res.ok else res.status
            print(f"[{scenario.name}] {spec.name}: {figure}", file=sys.stderr, flush=True)
            results.append(res)
    return results
