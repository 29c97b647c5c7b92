"""The demo application ``bastion`` serves when given none: one HTML page about the server.

Everything taken from the request is HTML-escaped; other paths get a 404.
"""

from __future__ import annotations

import html
import platform
from collections.abc import Callable, Iterable
from typing import Any

from . import __version__

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>bastion {version}</title></head>
<body>
<h1>bastion {version} is running</h1>
<p>This is bastion's demo page: no application was given.
Serve yours with <code>bastion module:app</code>.</p>
<table>
{rows}
</table>
</body>
</html>
"""

_FACTS = (
    ("Server", "SERVER_SOFTWARE"),
    ("Scheme", "wsgi.url_scheme"),
    ("Protocol", "SERVER_PROTOCOL"),
    ("Method", "REQUEST_METHOD"),
    ("Script name", "SCRIPT_NAME"),
    ("Path", "PATH_INFO"),
    ("Your address", "REMOTE_ADDR"),
    ("Multithreaded", "wsgi.multithread"),
)


def render(environ: dict[str, Any]) -> str:
    """The demo page for ``environ``."""
    facts = [("Python", f"{platform.python_implementation()} {platform.python_version()}")]
    facts += [(label, str(environ.get(key, ""))) for label, key in _FACTS]
    rows = "\n".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in facts
    )
    return _PAGE.format(version=html.escape(__version__), rows=rows)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """WSGI application: the demo page at ``/``, 404 elsewhere."""
    if environ.get("PATH_INFO", "/") not in ("", "/"):
        body = b"Not found. The demo page is at /.\n"
        status, content_type = "404 Not Found", "text/plain; charset=utf-8"
    else:
        body = render(environ).encode("utf-8")
        status, content_type = "200 OK", "text/html; charset=utf-8"
    start_response(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
        ],
    )
    return [body]
