"""Launch cheroot's WSGI server on 127.0.0.1 with the benchmark app: ``python -m bench.run_cheroot
PORT [--timeout S]``.

Four worker threads (min and max); a listen backlog of 1024 like waitress's default (cheroot's own
default of 5 drops connection bursts); up to 4096 kept-alive connections (cheroot's default of 10
answers ``Connection: close`` beyond 10 open connections, so 50 wrk connections would not be
kept alive); ``--timeout`` is how long idle keep-alive connections live (default 10 s).
"""

from __future__ import annotations

import argparse

from cheroot import wsgi

from bench.apps import app


def main(argv: list[str] | None = None) -> None:
    """Parse the port and serve until killed."""
    parser = argparse.ArgumentParser(prog="python -m bench.run_cheroot")
    parser.add_argument("port", type=int)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    server = wsgi.Server(
        ("127.0.0.1", args.port),
        app,
        numthreads=4,
        max=4,
        request_queue_size=1024,
        timeout=args.timeout,
    )
    server.keep_alive_conn_limit = 4096
    server.safe_start()


if __name__ == "__main__":
    main()
