"""The integration tests' WSGI app: answers, as JSON, what its environ says about the client.

Served by ``python -m bastion ... envapp:app`` with this directory as the working directory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

KEYS = (
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "REMOTE_HOST",
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "PATH_INFO",
)

# Every request header that some proxy or framework reads as proxy information.
PROXY_HEADER_KEYS = frozenset(
    "HTTP_" + name.upper().replace("-", "_")
    for name in (
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-forwarded-port",
        "x-forwarded-prefix",
        "x-forwarded-by",
        "x-forwarded-scheme",
        "x-forwarded-ssl",
        "x-forwarded-https",
        "x-forwarded-server",
        "x-forwarded-script-name",
        "x-real-ip",
        "x-client-ip",
        "x-cluster-client-ip",
        "x-host",
        "x-https",
        "x-scheme",
        "x-script-name",
        "x-url-scheme",
    )
)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer 200 with ``KEYS``, every ``HTTP_*`` header, and the proxy headers among them."""
    seen: dict[str, Any] = {key: environ.get(key) for key in KEYS}
    headers = {key: value for key, value in environ.items() if key.startswith("HTTP_")}
    seen["headers"] = headers
    seen["proxy_headers"] = {
        key: value
        for key, value in headers.items()
        if key in PROXY_HEADER_KEYS or key.startswith(("HTTP_X_FORWARDED", "HTTP_FORWARDED"))
    }
    body = json.dumps(seen, sort_keys=True).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def switching_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``/switch`` answers ``101 Switching Protocols`` (which WSGI cannot do); else ``app``."""
    if environ["PATH_INFO"] == "/switch":
        start_response("101 Switching Protocols", [])
        return [b""]
    return app(environ, start_response)
