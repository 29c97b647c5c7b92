"""Trusted hosts: answer only requests whose Host the operator allows.

:class:`HostPolicy` is the compiled check the server runs once per request, after the
trusted-proxy layer (``hosts.middleware`` wraps it as WSGI middleware for any server).
Pure: no I/O besides logging refusals.

The Host checked is the one the app would see (PEP 3333): ``HTTP_HOST`` when present,
else ``SERVER_NAME`` with a non-default ``SERVER_PORT``.  X-Forwarded-Host and X-Host are
never read here: bastion.proxy_headers has already copied them into ``HTTP_HOST`` when,
and only when, the peer was a trusted proxy.

Exempt paths are matched against the full path, ``SCRIPT_NAME + PATH_INFO``.  An entry
``/prefix/*`` matches ``/prefix`` and everything under ``/prefix/``, except paths with
``.`` or ``..`` segments below the prefix, which servers pass through unnormalised.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable
from typing import Any, NamedTuple
from urllib.parse import quote

from .._booleans import BOOL_ACCEPTS, parse_bool
from .._word_lists import split_words
from ..http.authority import AuthorityError, check_port, parse_port, split_authority
from ..http.memo import Caches, remember
from ..wsgi.environ import decode_path

__all__ = [
    "ALLOWED_HOSTS_ACCEPTS",
    "ALLOWED_PORTS_ACCEPTS",
    "BAD_HOST",
    "EXEMPT_PATHS_ACCEPTS",
    "HostPolicy",
    "HostResponse",
    "parse_allowed_hosts",
    "parse_allowed_ports",
    "parse_exempt_paths",
    "split_host",
]

logger = logging.getLogger("bastion.trusted_hosts")

ALLOWED_HOSTS_ACCEPTS = (
    "at least one host pattern, separated by spaces or commas: a host name (letters, digits, "
    "hyphens and dots, such as example.com), an IPv4 address (127.0.0.1), an IPv6 address in "
    "brackets ([::1]), a wildcard *.example.com (any name ending in .example.com, not "
    "example.com itself), or * for any host (no check); no ports (use allowed_ports)"
)
ALLOWED_PORTS_ACCEPTS = "at least one port number from 1 to 65535, separated by spaces or commas"
EXEMPT_PATHS_ACCEPTS = (
    "paths starting with '/', separated by spaces or commas; an entry ending in '/*' exempts "
    "everything under that prefix (such as /health or /.well-known/*)"
)

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_NAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")
_MAX_NAME = 253
_IPV4_CHARS = frozenset("0123456789.")
_PATH_CHARS = re.compile(r"/[!-~]*")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# What quote() leaves as is beyond letters, digits and "_.-~": RFC 3986 pchar in a path,
# and "%" too in text still percent-encoded (the path as sent, QUERY_STRING), with "?"
# in a query.
_PATH_SAFE = "/!$&'()*+,;=:@"
_RAW_PATH_SAFE = _PATH_SAFE + "%"
_QUERY_SAFE = _RAW_PATH_SAFE + "?"
_LOGGED_HOST_CHARS = 200
# The longest IPv6 address without a zone (six groups of four and an IPv4 address):
# longer text is no address a Host may name, as zones are refused.
_MAX_IPV6 = len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255")


class HostResponse(NamedTuple):
    """What to answer instead of calling the app: a WSGI status line, headers and body."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


BAD_HOST_BODY = b"Invalid Host header\n"
#: The one 400 answer to a Host that is not allowed: fixed, it never echoes the request.
BAD_HOST = HostResponse(
    "400 Bad Request",
    (
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(BAD_HOST_BODY))),
    ),
    BAD_HOST_BODY,
)


# -- option parsers (the config table calls these) --------------------------------------------


def _items(value: Any, accepts: str, kinds: tuple[type, ...] = (str,)) -> list[Any]:
    """The entries of a spaces/commas-separated string or of an iterable of ``kinds``."""
    if isinstance(value, str):
        return split_words(value)
    if isinstance(value, bytes | bytearray) or not isinstance(value, Iterable):
        raise ValueError(f"expected {accepts}, got {value!r}")
    items = []
    for item in value:
        if not isinstance(item, kinds):
            raise ValueError(f"expected {accepts}, got {item!r} in {value!r}")
        items.append(item.strip() if isinstance(item, str) else item)
    return items


def _refuse(accepts: str, item: Any, reason: str) -> ValueError:
    return ValueError(f"{reason}: {item!r}; expected {accepts}")


def _ipv6(text: str, caches: Caches | None = None) -> str | None:
    """``[normalised]`` for an IPv6 address without a zone, else None.

    Texts already looked at are remembered in ``caches.ipv6_literals``, if given.
    """
    if len(text) > _MAX_IPV6:
        return None
    memo = caches.ipv6_literals if caches is not None else {}
    known = memo.get(text, "")
    if known != "":
        return known
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        known = None
    else:
        known = None if address.scope_id is not None else f"[{address.compressed}]"
    remember(memo, text, known, Caches.IPV6_LITERALS)
    return known


def _host_pattern(item: str) -> str:
    """One allowed_hosts entry, normalised, or a ValueError saying why not."""
    if not item.isascii():  # before lower(): "\u212a".lower() is "k"
        raise _refuse(ALLOWED_HOSTS_ACCEPTS, item, "not a host name or address")
    pattern = item.lower()
    if pattern == "*":
        return pattern
    if pattern.startswith("["):
        address = _ipv6(pattern[1:-1]) if pattern.endswith("]") else None
        if address is None:
            raise _refuse(ALLOWED_HOSTS_ACCEPTS, item, "not an IPv6 address in brackets")
        return address
    if pattern.endswith("."):
        pattern = pattern[:-1]
    wildcard = pattern.startswith("*.")
    name = pattern[2:] if wildcard else pattern
    if name.count(":") > 1:
        raise _refuse(ALLOWED_HOSTS_ACCEPTS, item, "an IPv6 address needs brackets, as [::1]")
    if ":" in name:
        raise _refuse(ALLOWED_HOSTS_ACCEPTS, item, "ports go in allowed_ports, not in hosts")
    if "*" in name:
        raise _refuse(ALLOWED_HOSTS_ACCEPTS, item, "'*' may only be a whole first label")
    if not name.isascii() or len(name) > _MAX_NAME or not _NAME.fullmatch(name):
        raise _refuse(ALLOWED_HOSTS_ACCEPTS, item, "not a host name or address")
    if _IPV4_CHARS.issuperset(name):
        try:
            name = str(ipaddress.IPv4Address(name))
        except ValueError:
            raise _refuse(ALLOWED_HOSTS_ACCEPTS, item, "not an IPv4 address") from None
        if wildcard:
            raise _refuse(ALLOWED_HOSTS_ACCEPTS, item, "a wildcard needs a host name")
    return "*." + name if wildcard else name


def parse_allowed_hosts(value: Any) -> tuple[str, ...] | None:
    """Check ``allowed_hosts``: None (no check) or patterns, normalised to lower case.

    Raises ValueError, naming what is accepted, for an empty list or a bad pattern.
    """
    if value is None:
        return None
    patterns = [_host_pattern(item) for item in _items(value, ALLOWED_HOSTS_ACCEPTS)]
    if not patterns:
        raise _refuse(ALLOWED_HOSTS_ACCEPTS, value, "no host given")
    return tuple(dict.fromkeys(patterns))


def parse_allowed_ports(value: Any) -> tuple[int, ...] | None:
    """Check ``allowed_ports``: None (any port), an int, or ports in a string or iterable."""
    if value is None:
        return None
    items = [value] if isinstance(value, int) else _items(value, ALLOWED_PORTS_ACCEPTS, (str, int))
    if not items:
        raise _refuse(ALLOWED_PORTS_ACCEPTS, value, "no port given")
    ports = []
    for item in items:
        if isinstance(item, bool):
            raise _refuse(ALLOWED_PORTS_ACCEPTS, item, "not a port")
        if isinstance(item, str) and item.isascii() and item.isdigit() and len(item) <= 5:
            item = int(item)
        if not isinstance(item, int) or not _is_port(item):
            raise _refuse(ALLOWED_PORTS_ACCEPTS, item, "not a port")
        ports.append(item)
    return tuple(dict.fromkeys(ports))


def _is_port(number: int) -> bool:
    try:
        check_port(number)
    except AuthorityError:
        return False
    return True


def parse_exempt_paths(value: Any) -> tuple[str, ...]:
    """Check ``exempt_paths``: None or empty for none, else absolute paths or ``/prefix/*``."""
    if value is None:
        return ()
    paths = []
    for item in _items(value, EXEMPT_PATHS_ACCEPTS):
        if not _PATH_CHARS.fullmatch(item):
            raise _refuse(EXEMPT_PATHS_ACCEPTS, item, "not a path starting with '/'")
        if "*" in item.removesuffix("/*"):
            raise _refuse(EXEMPT_PATHS_ACCEPTS, item, "'*' may only end a path, as '/*'")
        paths.append(item)
    return tuple(dict.fromkeys(paths))


def _flag(value: Any) -> bool:
    try:
        return parse_bool(value)
    except ValueError:
        raise ValueError(f"www_redirect: expected {BOOL_ACCEPTS}, got {value!r}") from None


# -- the Host value ----------------------------------------------------------------------------


def split_host(host: str, caches: Caches | None = None) -> tuple[str, int | None] | None:
    """A Host value ``name[:port]`` or ``[ipv6][:port]`` as (normalised name, port or None).

    The name is lower-cased without its trailing dot; an IPv6 address is compressed and
    bracketed.  None for anything malformed, a port included (bastion.http.authority's
    rule: 1-65535, no leading zeros, not empty).  Host names are not checked against the
    grammar here: an exact match against a validated pattern needs no such check.
    ``caches`` remembers the IPv6 literals already looked at.
    """
    if not isinstance(host, str) or not host.isascii():
        return None
    try:
        name, port_text = split_authority(host)
        port = None if port_text is None else parse_port(port_text)
    except AuthorityError:
        return None
    if name.startswith("["):
        address = _ipv6(name[1:-1], caches)
        return None if address is None else (address, port)
    name = name.lower()
    if name.endswith("."):
        name = name[:-1]
    return (name, port) if name else None


def server_host(environ: dict[str, Any]) -> str:
    """``SERVER_NAME[:SERVER_PORT]``, the Host PEP 3333 reconstructs without HTTP_HOST."""
    name = str(environ.get("SERVER_NAME", ""))
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"
    port = str(environ.get("SERVER_PORT", ""))
    default = _DEFAULT_PORTS.get(environ.get("wsgi.url_scheme", "http"))
    return name if not port or port == str(default) else f"{name}:{port}"


def _quote(text: str, safe: str) -> str:
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:  # not a PEP 3333 native string; keep the text, not the bytes
        raw = text.encode("utf-8")
    return quote(raw, safe=safe)


def _escaped(value: Any) -> str:
    text = str(value)
    if len(text) > _LOGGED_HOST_CHARS:
        return ascii(text[:_LOGGED_HOST_CHARS]) + "..."
    return ascii(text)


# -- the policy --------------------------------------------------------------------------------


class HostPolicy:
    """The allowed hosts, compiled once; ``check`` runs per request.

    Arguments go through the ``parse_*`` functions, so strings work.  ``allowed_hosts``
    None or ``*`` checks no host; ``allowed_ports`` still applies then.  ``caches``
    remembers IPv6 Host literals (the server's; without one, the policy keeps its own).
    """

    __slots__ = (
        "_any",
        "_caches",
        "_exact",
        "_exempt_exact",
        "_exempt_prefixes",
        "_fast",
        "_open",
        "_ports",
        "_redirectable",
        "_suffixes",
        "allowed_hosts",
        "allowed_ports",
        "exempt_paths",
        "logger",
        "www_redirect",
    )

    def __init__(
        self,
        allowed_hosts: Any,
        allowed_ports: Any = None,
        www_redirect: Any = True,
        exempt_paths: Any = (),
        logger: logging.Logger = logger,
        caches: Caches | None = None,
    ) -> None:
        self._caches = caches if caches is not None else Caches()
        self.allowed_hosts = parse_allowed_hosts(allowed_hosts)
        self.allowed_ports = parse_allowed_ports(allowed_ports)
        self.www_redirect = _flag(www_redirect)
        self.exempt_paths = parse_exempt_paths(exempt_paths)
        self.logger = logger
        patterns = self.allowed_hosts or ("*",)
        any_host = "*" in patterns
        self._exact = frozenset(p for p in patterns if not p.startswith("*"))
        self._suffixes = tuple(p[1:] for p in patterns if p.startswith("*."))
        self._redirectable = frozenset(
            p for p in self._exact if not p.startswith("[") and not _IPV4_CHARS.issuperset(p)
        )
        self._ports = None if self.allowed_ports is None else frozenset(self.allowed_ports)
        self._open = any_host and self._ports is None
        self._fast: frozenset[str] = (
            frozenset()
            if any_host
            else self._exact
            if self._ports is None
            else frozenset(f"{name}:{port}" for name in self._exact for port in self._ports)
        )
        self._exempt_exact = frozenset(p for p in self.exempt_paths if not p.endswith("/*"))
        self._exempt_prefixes = tuple(p[:-1] for p in self.exempt_paths if p.endswith("/*"))
        self._any = any_host

    def check(self, environ: dict[str, Any]) -> HostResponse | None:
        """None when the request may reach the app; else what to answer instead.

        The answer is :data:`BAD_HOST` (logged at WARNING) or a www redirect.
        """
        if self._open:
            return None
        host = environ.get("HTTP_HOST")
        if host is None:
            host = server_host(environ)
        if host in self._fast:
            return None
        return self._check(environ, host)

    def _check(self, environ: dict[str, Any], host: str) -> HostResponse | None:
        if (self._exempt_exact or self._exempt_prefixes) and self.exempt(environ):
            return None
        parsed = split_host(host, self._caches)
        if parsed is None:
            return self._refuse(environ, host)
        name, port = parsed
        if self._ports is not None:
            effective = port or _DEFAULT_PORTS.get(environ.get("wsgi.url_scheme", "http"))
            if effective not in self._ports:
                return self._refuse(environ, host)
        if self.allows_name(name):
            return None
        # A www.<name> that matches no wildcard: <name> cannot match one either.
        if self.www_redirect and name.startswith("www.") and name[4:] in self._redirectable:
            return self._redirect(environ, name[4:], port)
        return self._refuse(environ, host)

    def allows_name(self, name: str) -> bool:
        """Whether a normalised host name (see :func:`split_host`) is allowed, ports aside."""
        if name in self._exact or self._any:
            return True
        return bool(self._suffixes) and self._matches_wildcard(name)

    def _matches_wildcard(self, name: str) -> bool:
        if len(name) > _MAX_NAME or not _NAME.fullmatch(name):
            return False
        return name.endswith(self._suffixes)

    def exempt(self, environ: dict[str, Any]) -> bool:
        """Whether the request's path (SCRIPT_NAME + PATH_INFO) skips the Host check."""
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if path in self._exempt_exact:
            return True
        for prefix in self._exempt_prefixes:
            if path.startswith(prefix) or path == prefix[:-1]:
                below = path[len(prefix) :].split("/")
                return "." not in below and ".." not in below
        return False

    def _refuse(self, environ: dict[str, Any], host: str) -> HostResponse:
        self.logger.warning(
            "Refused request with Host %s from %s",
            _escaped(host),
            _escaped(environ.get("REMOTE_ADDR", "-")),
        )
        return BAD_HOST

    def _redirect(self, environ: dict[str, Any], target: str, port: int | None) -> HostResponse:
        scheme = environ.get("wsgi.url_scheme", "http")
        scheme = scheme if scheme in _DEFAULT_PORTS else "http"
        authority = target if port is None else f"{target}:{port}"
        path = _location_path(environ)
        query = environ.get("QUERY_STRING", "")
        location = f"{scheme}://{authority}{path or '/'}"
        if query:
            location += "?" + _quote(query, _QUERY_SAFE)
        method = environ.get("REQUEST_METHOD", "GET")
        status = "301 Moved Permanently" if method in ("GET", "HEAD") else "308 Permanent Redirect"
        headers = (
            ("Location", location),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", "0"),
        )
        return HostResponse(status, headers, b"")


def _location_path(environ: dict[str, Any]) -> str:
    """The request's path for a redirect, percent-encoded as the client sent it.

    PATH_INFO is decoded (``%2F`` is ``/`` there), so the path is taken from the target
    as sent (REQUEST_URI, or RAW_URI), after what SCRIPT_NAME adds in front of it (a
    proxy's prefix).  Without a raw target that decodes to the end of SCRIPT_NAME +
    PATH_INFO (another server; a middleware that rewrote the path), the decoded path is
    encoded again.
    """
    full = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if isinstance(raw, str) and raw:
        if raw[0] != "/":  # absolute-form: http://host/path?query
            _, sep, rest = raw.partition("://")
            slash = rest.find("/")
            raw = rest[slash:] if sep and slash >= 0 else ""
        sent = raw.partition("?")[0]
        decoded = decode_path(sent)
        if sent and full.endswith(decoded):
            front = full[: len(full) - len(decoded)]
            return _quote(front, _PATH_SAFE) + _quote(sent, _RAW_PATH_SAFE)
    return _quote(full, _PATH_SAFE)
