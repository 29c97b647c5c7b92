"""``TrustedHostMiddleware``: the trusted-hosts check as WSGI middleware for any server."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from .policy import HostPolicy, logger


class TrustedHostMiddleware:
    """WSGI middleware: refuse (400) or redirect requests whose Host is not allowed.

    Usable with any server; put it inside any proxy-headers middleware, so that it sees
    the Host after trusted forwarded headers have been applied.
    """

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        allowed_hosts: Any,
        allowed_ports: Any = None,
        www_redirect: Any = True,
        exempt_paths: Any = (),
        logger: logging.Logger = logger,
    ) -> None:
        self.app = app
        self.policy = HostPolicy(allowed_hosts, allowed_ports, www_redirect, exempt_paths, logger)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        answer = self.policy.check(environ)
        if answer is None:
            return self.app(environ, start_response)
        start_response(answer.status, list(answer.headers))
        if environ.get("REQUEST_METHOD") == "HEAD" or not answer.body:
            return []
        return [answer.body]
