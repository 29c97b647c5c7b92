"""Helpers for the proxy-header tests: hand-built environs and a WSGI call recorder."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Any

import pytest

from bastion.proxy_headers import ProxyPolicy

PROXY_OPTIONS = (
    "trusted_proxy",
    "trusted_proxy_count",
    "trusted_proxy_headers",
    "clear_untrusted",
    "log_untrusted",
    "trusted_proxy_mode",
)


ALIASES = {
    "clear_untrusted_proxy_headers": "clear_untrusted",
    "log_untrusted_proxy_headers": "log_untrusted",
}


def policy_for(**serve_kwargs: Any) -> ProxyPolicy:
    """The policy serve() builds from its keyword arguments (non-proxy ones are ignored).

    serve() takes waitress's ``*_untrusted_proxy_headers`` names and the seed's shorter
    ``clear_untrusted`` / ``log_untrusted``.
    """
    options = {ALIASES.get(name, name): value for name, value in serve_kwargs.items()}
    return ProxyPolicy.from_options(
        **{name: value for name, value in options.items() if name in PROXY_OPTIONS}
    )


def base_environ(remote_addr: str = "127.0.0.1", **headers: str) -> dict[str, Any]:
    """An environ as a server builds it for ``GET /`` from ``remote_addr``, plus ``headers``.

    ``headers`` are environ keys (``HTTP_X_FORWARDED_FOR=...``).
    """
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": remote_addr,
        "REMOTE_HOST": remote_addr,
        "REMOTE_PORT": "50000",
        "HTTP_HOST": "localhost:8080",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
    }
    environ.update(headers)
    return environ


class Called:
    """What a WSGI call produced: status, headers and body."""

    def __init__(self) -> None:
        self.status = ""
        self.headers: list[tuple[str, str]] = []
        self.body = b""


@pytest.fixture
def make_environ() -> Callable[..., dict[str, Any]]:
    """``make_environ(remote_addr, HTTP_...=value)``: see :func:`base_environ`."""
    return base_environ


@pytest.fixture
def serve_policy() -> Callable[..., ProxyPolicy]:
    """``serve_policy(**serve_kwargs)``: see :func:`policy_for`."""
    return policy_for


@pytest.fixture
def echo_app() -> Callable[..., Any]:
    """A WSGI app that answers 200 and records the environ it was given on itself."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        app.seen = dict(environ)  # type: ignore[attr-defined]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    app.seen = None  # type: ignore[attr-defined]
    return app


@pytest.fixture
def call() -> Callable[..., Called]:
    """``call(app, environ)`` runs a WSGI app and returns a :class:`Called`."""

    def run(app: Callable[..., Any], environ: dict[str, Any]) -> Called:
        result = Called()

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            result.status, result.headers = status, headers

        result.body = b"".join(app(environ, start_response))
        return result

    return run
