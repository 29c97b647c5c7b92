"""Fixtures for the trusted-host tests: hand-built environs and a WSGI call recorder."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest


def _environ(
    host: str | None = "example.com",
    path: str = "/",
    method: str = "GET",
    scheme: str = "http",
    **extra: Any,
) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "server.internal",
        "SERVER_PORT": "443" if scheme == "https" else "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.7",
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
    }
    if host is not None:
        environ["HTTP_HOST"] = host
    environ.update(extra)
    setup_testing_defaults(environ)
    if host is None:
        del environ["HTTP_HOST"]  # setup_testing_defaults adds one
    return environ


@pytest.fixture
def make_environ() -> Callable[..., dict[str, Any]]:
    """``make_environ(host, path, method, scheme, **keys)``: a complete PEP 3333 environ.

    ``host=None`` leaves HTTP_HOST out (an HTTP/1.0 request without Host).
    """
    return _environ


class Recorder:
    """The outcome of one WSGI call: status, headers, joined body, and whether the app ran."""

    def __init__(self) -> None:
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.body = b""

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info=None):
        self.status, self.headers = status, headers
        return lambda data: None

    def header(self, name: str) -> str | None:
        found = [value for key, value in self.headers if key.lower() == name.lower()]
        assert len(found) <= 1
        return found[0] if found else None


def _call(app: Callable[..., Any], environ: dict[str, Any]) -> Recorder:
    recorder = Recorder()
    result = app(environ, recorder.start_response)
    try:
        recorder.body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return recorder


@pytest.fixture
def call() -> Callable[[Callable[..., Any], dict[str, Any]], Recorder]:
    """``call(app, environ)``: run a WSGI app to completion and return a :class:`Recorder`."""
    return _call
