"""The access log: one line per response, Apache combined format or JSON lines.

Off by default.  It writes through the ``bastion.access`` logger to stdout
(``access_log = "-"``) or to a file.  Values that come from the client are
escaped so a request cannot forge log lines.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _escape(value: str) -> str:
    """Backslash-escape quotes, backslashes and control characters, as Apache does."""
    return value.encode("unicode_escape").decode("ascii").replace('"', '\\"')


class AccessLog:
    """Formats and writes access log lines; ``open()`` opens the target (stdout or a file)."""

    def __init__(self, target: str, fmt: str) -> None:
        self.target = target
        self.logger = logging.getLogger("bastion.access")
        self.handler: logging.Handler | None = None
        self.json = fmt == "json"

    def open(self) -> None:
        """Open the target, before privileges are dropped (as Apache opens its logs)."""
        if self.handler is not None:
            return
        if self.target == "-":
            self.handler = logging.StreamHandler(sys.stdout)
        else:
            self.handler = logging.FileHandler(self.target, encoding="utf-8")
        self.handler.setFormatter(logging.Formatter("%(message)s"))
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        self.logger.addHandler(self.handler)

    @classmethod
    def from_config(cls, config: Any) -> AccessLog | None:
        target = getattr(config, "access_log", None)
        if not target:
            return None
        return cls(target, getattr(config, "access_log_format", "combined"))

    def log(self, conn: Any, request: Any, exchange: Any) -> None:
        """Write the line for one finished request (called on the worker thread)."""
        headers = request.headers
        self._write(
            exchange.client,
            request.method,
            request.target,
            request.version,
            exchange.status_code or 500,
            exchange.sent_body,
            headers.get("referer", ""),
            headers.get("user-agent", ""),
        )

    def log_refused(self, conn: Any, status: int, size: int) -> None:
        """Write the line for a request the engine refused; its request line is unknown."""
        self._write(conn.remote_addr, "", "", "", status, size, "", "")

    def _write(
        self,
        remote_addr: str,
        method: str,
        target: str,
        version: str,
        status: int,
        size: int,
        referer: str,
        user_agent: str,
    ) -> None:
        now = time.time()
        if self.json:
            line = json.dumps(
                {
                    "time": now,
                    "remote_addr": remote_addr,
                    "method": method,
                    "target": target,
                    "protocol": version,
                    "status": status,
                    "bytes": size,
                    "referer": referer,
                    "user_agent": user_agent,
                },
                ensure_ascii=True,
            )
        else:
            t = time.gmtime(now)
            stamp = (
                f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year:04d}:"
                f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
            )
            request_line = f"{_escape(method)} {_escape(target)} {version}" if method else "-"
            line = (
                f'{remote_addr} - - [{stamp}] "{request_line}" {status} {size or "-"} '
                f'"{_escape(referer or "-")}" "{_escape(user_agent or "-")}"'
            )
        self.logger.info(line)

    def close(self) -> None:
        handler = self.handler
        if handler is not None:
            self.handler = None
            self.logger.removeHandler(handler)
            handler.close()
