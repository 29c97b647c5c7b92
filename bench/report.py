"""Turn results into text: the main table, the idle-cost table, bastion's targets, the quick line.

Ratios compare requests/s within one scenario of one run: a server's figure divided by
waitress's (``vs waitress``) and by bjoern's (``vs bjoern``).
"""

from __future__ import annotations

from bench.runner import Result

MIB = 1024 * 1024
PURE_PYTHON_PEERS = ("waitress", "cheroot", "gunicorn")
HELLO_VS_WAITRESS = 5.0
HELLO_VS_BJOERN = 0.4
IDLE_MAX_LOSS = 0.05
IDLE_MAX_RSS = 64 * MIB
TIE = 0.99


def _find(results: list[Result], server: str, scenario: str) -> Result | None:
    for res in results:
        if res.server == server and res.scenario == scenario and res.ok:
            return res
    return None


def ratio(results: list[Result], res: Result, base: str) -> float | None:
    """``res``'s req/s over ``base``'s in the same scenario; None if either has no figure."""
    ref = _find(results, base, res.scenario)
    if not res.ok or ref is None or ref.rps <= 0:
        return None
    return res.rps / ref.rps


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _mib(value: int) -> str:
    return f"{value / MIB:.1f} MiB" if value else "n/a"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def main_table(results: list[Result]) -> str:
    """The server x scenario table in Markdown (also readable as plain text)."""
    lines = [
        _row(["scenario", "server", "req/s", "p99", "errors", "peak RSS", "vs waitress",
              "vs bjoern"]),
        _row(["---", "---", "---:", "---:", "---:", "---:", "---:", "---:"]),
    ]  # fmt: skip
    for res in results:
        if not res.ok:
            lines.append(_row([res.scenario, res.server, res.status, "", "", "", "", ""]))
            continue
        p99 = "n/a" if res.p99_ms is None else f"{res.p99_ms:.2f} ms"
        errors = f"{res.errors} ({res.error_detail})" if res.errors else "0"
        lines.append(
            _row([
                res.scenario, res.server, f"{res.rps:,.0f}", p99, errors, _mib(res.peak_rss),
                _x(ratio(results, res, "waitress")), _x(ratio(results, res, "bjoern")),
            ])
        )  # fmt: skip
    return "\n".join(lines)


def idle_table(results: list[Result]) -> str:
    """Per server: req/s and peak RSS without and with the idle connections, and how many of
    those the server still held open after the load."""
    lines = [
        _row(["server", "req/s without", "req/s with", "throughput kept", "RSS without",
              "peak RSS with", "RSS delta", "idle conns still open"]),
        _row(["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]),
    ]  # fmt: skip
    for res in results:
        if res.scenario != "idle" or not res.ok or not res.baseline_rps:
            continue
        held = f"{res.idle_alive}" + (f" ({res.note})" if res.note else "")
        lines.append(
            _row([
                res.server, f"{res.baseline_rps:,.0f}", f"{res.rps:,.0f}",
                f"{res.rps / res.baseline_rps:.1%}", _mib(res.baseline_rss), _mib(res.peak_rss),
                f"{(res.peak_rss - res.baseline_rss) / MIB:+.1f} MiB", held,
            ])
        )  # fmt: skip
    return "\n".join(lines) if len(lines) > 2 else ""


def _verdict(value: float | None, ok: bool) -> str:
    return "n/a" if value is None else ("PASS" if ok else "FAIL")


def _versus(value: float | None) -> str:
    """Verdict for "at least the best peer": a ratio in [0.99, 1) is a TIE (within noise)."""
    if value is not None and TIE <= value < 1.0:
        return f"{value:.3f}x TIE (within 1%)"
    if value is None:
        return "n/a"
    return f"{_x(value)} {_verdict(value, value >= 1.0)}"


def _share(mine: Result | None, ref: Result | None) -> float | None:
    """``mine``'s req/s over ``ref``'s; 0.0 when only ``mine`` is missing, None without ``ref``."""
    if ref is None or ref.rps <= 0:
        return None
    return (mine.rps if mine else 0.0) / ref.rps


def targets(results: list[Result]) -> list[str]:
    """bastion's targets from the issue, each with its measured value and PASS/FAIL/n/a."""
    out: list[str] = []
    hello = _find(results, "bastion", "hello")
    for base, floor in (("waitress", HELLO_VS_WAITRESS), ("bjoern", HELLO_VS_BJOERN)):
        value = _share(hello, _find(results, base, "hello"))
        ok = value is not None and value >= floor
        shown = "n/a" if value is None else f"{_x(value)} {_verdict(value, ok)}"
        out.append(f"hello >= {floor:g}x {base}: {shown}")
    for scenario in dict.fromkeys(r.scenario for r in results):
        peers = [p for p in (_find(results, n, scenario) for n in PURE_PYTHON_PEERS) if p]
        if scenario == "hello" or not peers:
            continue
        best = max(peers, key=lambda p: p.rps)
        value = _share(_find(results, "bastion", scenario), best)
        out.append(
            f"{scenario} >= best pure-Python peer ({best.server}, {best.rps:,.0f} req/s): "
            + _versus(value)
        )
    idle = _find(results, "bastion", "idle")
    if idle and idle.baseline_rps:
        loss = 1 - idle.rps / idle.baseline_rps
        grew = idle.peak_rss - idle.baseline_rss
        out.append(f"idle throughput loss < 5%: {loss:.1%} {_verdict(loss, loss < IDLE_MAX_LOSS)}")
        out.append(
            f"idle RSS delta < 64 MiB: {grew / MIB:+.1f} MiB {_verdict(grew, grew < IDLE_MAX_RSS)}"
        )
    elif any(r.scenario == "idle" for r in results):
        out.append("idle cost (< 5% throughput, < 64 MiB RSS): n/a (bastion has no idle figure)")
    return out


def quick_line(results: list[Result]) -> str:
    """``hello ratio_vs_waitress=X.XX ratio_vs_bjoern=Y.YY`` for bastion (0.00 if it failed)."""
    mine = _find(results, "bastion", "hello")
    parts = []
    for base in ("waitress", "bjoern"):
        value = _share(mine, _find(results, base, "hello"))
        parts.append(f"ratio_vs_{base}=" + ("n/a" if value is None else f"{value:.2f}"))
    return "hello " + " ".join(parts)


def notes(results: list[Result]) -> list[str]:
    """Why each failed cell failed, and any remark on an idle run."""
    return [f"{r.server} / {r.scenario}: {r.status}: {r.note}" for r in results if r.note]
