"""Launch bjoern on 127.0.0.1 with the benchmark app: ``python -m bench.run_bjoern PORT``."""

from __future__ import annotations

import sys

import bjoern

from bench.apps import app


def main(argv: list[str] | None = None) -> None:
    """Serve on the port given as the only argument until killed."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        sys.exit("usage: python -m bench.run_bjoern PORT")
    bjoern.run(app, "127.0.0.1", int(args[0]))


if __name__ == "__main__":
    main()
