"""``python -m bench``: run wrk against bastion and its peers and print one table.

See docs/performance.md (written by a full run) for the method and the scenarios.
"""

from __future__ import annotations

import argparse
import shutil
import sys

from bench import doc, machine, report, runner
from bench.scenarios import SCENARIOS
from bench.servers import SERVERS

QUICK_SERVERS = ("bastion", "waitress", "bjoern")
QUICK_SCENARIOS = ("hello",)


def _names(text: str, known: dict, what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {what}: {', '.join(unknown) or '(none)'}; choose from {', '.join(known)}"
        )
    return names


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: --quick, --duration, --warmup, --servers, --scenarios, --no-write."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="hello keep-alive for bastion, waitress and bjoern only; does not write the doc",
    )
    parser.add_argument("--duration", type=int, default=5, help="measured seconds per cell")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up seconds per cell (0: none)")
    parser.add_argument(
        "--servers",
        type=lambda t: _names(t, SERVERS, "server"),
        help=f"comma-separated subset of {','.join(SERVERS)}",
    )
    parser.add_argument(
        "--scenarios",
        type=lambda t: _names(t, SCENARIOS, "scenario"),
        help=f"comma-separated subset of {','.join(SCENARIOS)}",
    )
    parser.add_argument("--no-write", action="store_true", help="do not write docs/performance.md")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 120 or not 0 <= args.warmup <= 60:
        parser.error("--duration must be in 1..120 and --warmup 0..60 (whole seconds)")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status (0 unless wrk is missing)."""
    args = parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed: run bash scripts/bench-setup.sh", file=sys.stderr)
        return 2
    server_names = args.servers or list(QUICK_SERVERS if args.quick else SERVERS)
    scenario_names = args.scenarios or list(QUICK_SCENARIOS if args.quick else SCENARIOS)
    specs = [SERVERS[n] for n in server_names]
    scenarios = [SCENARIOS[n] for n in scenario_names]

    pin = machine.pinning()
    info = doc.RunInfo(
        machine=machine.describe([s.dist for s in specs]),
        pinning=pin.description,
        seconds=args.duration,
        warmup=args.warmup,
        fd_limit=machine.raise_fd_limit(),
    )
    results = runner.run_all(specs, scenarios, args.duration, args.warmup, pin)

    print(doc.header(info))
    print(f"threads: {'; '.join(f'{s.name} {s.threads}' for s in specs)}")
    print(f"each cell: {args.warmup:g} s warm-up, then {args.duration:g} s measured\n")
    print(report.main_table(results))
    idle = report.idle_table(results)
    if idle:
        print("\nidle connections (hello without, then with them, on one process):\n" + idle)
    if "bastion" in server_names:
        print("\nbastion's targets:\n" + "\n".join(f"  {t}" for t in report.targets(results)))
    notes = report.notes(results)
    if notes:
        print("\nnotes:\n" + "\n".join(f"  {n}" for n in notes))
    if not (args.quick or args.no_write):
        doc.write(doc.render(results, info, specs, scenarios))
    if "hello" in scenario_names and "bastion" in server_names:
        print(report.quick_line(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
