"""Build the PEP 3333 environ for one request.  Pure: no I/O.

A ``EnvironTemplate`` holds the keys that are the same for every request on a
listener; ``build`` copies it and adds the per-request keys.

Header fields become ``HTTP_*`` keys, except:
- names containing "_" are dropped: "X_Forwarded_For" and "X-Forwarded-For"
  would otherwise both become HTTP_X_FORWARDED_FOR and spoof each other (the
  same rule as nginx's underscores_in_headers off and waitress);
- ``Proxy`` is dropped, so no HTTP_PROXY reaches the app (httpoxy, CVE-2016-5385);
- Content-Type and Content-Length become CONTENT_TYPE and CONTENT_LENGTH;
- a chunked body, read in full before the app runs, is given as a sized one (as under
  waitress): CONTENT_LENGTH is its decoded length, and no HTTP_TRANSFER_ENCODING;
- with pass_authorization off, Authorization and Proxy-Authorization are dropped
  (``NoAuthorizationTemplate``).
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import unquote_to_bytes

from ..http.events import Request
from ..http.memo import Caches, remember

_SPECIAL_KEYS = {
    "content-type": "CONTENT_TYPE",
    "content-length": "CONTENT_LENGTH",
    "proxy": None,
}


def environ_key(name: str) -> str | None:
    """The environ key for a lower-cased header name, or None when it is dropped."""
    if name in _SPECIAL_KEYS:
        return _SPECIAL_KEYS[name]
    if "_" in name:
        return None
    return "HTTP_" + name.upper().replace("-", "_")


def decode_path(path: str) -> str:
    """PEP 3333 PATH_INFO: percent-decoded bytes, as latin-1 text.  Nothing else is normalised."""
    return unquote_to_bytes(path).decode("latin-1") if "%" in path else path


class EnvironTemplate:
    """The keys shared by every request a listener serves.

    Keys already worked out, by header name, are remembered in ``caches.environ_keys``
    (the server's; without one, the template keeps a private Caches).
    """

    __slots__ = ("base", "environ_keys", "url_prefix")

    def __init__(
        self,
        *,
        server_name: str,
        server_port: str,
        url_scheme: str,
        url_prefix: str,
        server_software: str,
        file_wrapper: Any,
        errors: Any = None,
        extra: dict[str, Any] | None = None,
        caches: Caches | None = None,
    ) -> None:
        self.url_prefix = url_prefix
        self.environ_keys = (caches if caches is not None else Caches()).environ_keys
        self.base: dict[str, Any] = {
            "SERVER_NAME": server_name,
            "SERVER_PORT": server_port,
            "SERVER_SOFTWARE": server_software,
            "SCRIPT_NAME": url_prefix,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url_scheme,
            "wsgi.errors": errors if errors is not None else sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
            "wsgi.file_wrapper": file_wrapper,
        }
        if extra:
            self.base.update(extra)

    def with_url_scheme(self, scheme: str) -> EnvironTemplate:
        """A copy of this template whose requests have ``wsgi.url_scheme`` ``scheme``."""
        copy = object.__new__(EnvironTemplate)
        copy.url_prefix = self.url_prefix
        copy.environ_keys = self.environ_keys
        copy.base = {**self.base, "wsgi.url_scheme": scheme}
        return copy

    def build(
        self, request: Request, remote_addr: str, remote_port: str, body: Any, body_length: int
    ) -> dict[str, Any]:
        """Return a new environ for ``request`` from a peer, with ``body`` as wsgi.input.

        ``body_length`` is the length of the body read: a chunked one's CONTENT_LENGTH.
        """
        environ = self.base.copy()
        path = request.path
        if "%" in path:
            path = decode_path(path)
        prefix = self.url_prefix
        if prefix:
            if path == prefix:
                path = ""
            elif path.startswith(prefix) and path[len(prefix)] == "/":
                path = path[len(prefix) :]
        environ["REQUEST_METHOD"] = request.method
        environ["PATH_INFO"] = path
        environ["QUERY_STRING"] = request.query
        environ["REQUEST_URI"] = environ["RAW_URI"] = request.target
        environ["SERVER_PROTOCOL"] = request.version
        environ["REMOTE_ADDR"] = environ["REMOTE_HOST"] = remote_addr
        environ["REMOTE_PORT"] = remote_port
        environ["wsgi.input"] = body
        keys = self.environ_keys
        for name, value in request.headers.items():
            key = keys.get(name, "")
            if key == "":
                key = environ_key(name)
                remember(keys, name, key, Caches.ENVIRON_KEYS)
            if key is not None:
                environ[key] = value
        if request.chunked:
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ["CONTENT_LENGTH"] = str(body_length)
        return environ


class NoAuthorizationTemplate(EnvironTemplate):
    """An ``EnvironTemplate`` whose environs carry no credentials (pass_authorization off).

    As with mod_wsgi's WSGIPassAuthorization Off, neither HTTP_AUTHORIZATION nor
    HTTP_PROXY_AUTHORIZATION reaches the application.  A server with the option on
    uses the plain template, so passing credentials costs nothing per request.
    """

    __slots__ = ()

    def build(
        self, request: Request, remote_addr: str, remote_port: str, body: Any, body_length: int
    ) -> dict[str, Any]:
        environ = super().build(request, remote_addr, remote_port, body, body_length)
        environ.pop("HTTP_AUTHORIZATION", None)
        environ.pop("HTTP_PROXY_AUTHORIZATION", None)
        return environ
