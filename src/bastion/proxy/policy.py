"""Trusted proxy headers: rewrite the WSGI environ from what a trusted reverse proxy says.

The public API is waitress's (``proxy_headers_middleware``, ``parse_proxy_headers``,
``MalformedProxyHeader``, ``Forwarded``, ``PROXY_HEADERS``), extended as docs/proxies.md
describes.  :class:`ProxyPolicy` is the compiled form the server calls once per request.
Pure: no I/O besides logging; the peer is read from ``REMOTE_ADDR`` and
``environ[PEER_KIND_KEY] == "unix"`` marks a unix-socket peer.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import BastionError
from . import rules
from .forwarded import (
    Forwarded,
    InvalidValue,
    Node,
    list_items,
    parse_address,
    parse_flag,
    parse_forwarded,
    parse_host,
    parse_node,
    parse_port,
    parse_prefix,
    parse_proto,
    parse_protocol,
    single,
    unquote,
)
from .peers import PEER_KIND_KEY, TrustedPeers, option_names, validate_trusted_proxy

__all__ = [
    "ALL_PROXY_HEADERS",
    "KNOWN_PROXY_HEADERS",
    "PEER_KIND_KEY",
    "PROXY_HEADERS",
    "Forwarded",
    "MalformedProxyHeader",
    "ProxyPolicy",
    "TrustedPeers",
    "parse_proxy_headers",
    "proxy_headers_middleware",
    "validate_trusted_proxy",
    "validate_trusted_proxy_count",
    "validate_trusted_proxy_headers",
    "validate_trusted_proxy_mode",
]

logger = logging.getLogger("bastion.proxy")

#: waitress's set: the X-Forwarded-* headers and Forwarded, as environ names without ``HTTP_``.
PROXY_HEADERS = frozenset(
    {
        "X_FORWARDED_FOR",
        "X_FORWARDED_HOST",
        "X_FORWARDED_PROTO",
        "X_FORWARDED_PORT",
        "X_FORWARDED_BY",
        "FORWARDED",
    }
)

#: Every header bastion knows, by category in precedence order: mod_wsgi's synonyms, and
#: those other ecosystems' proxy helpers read (X-Cluster-Client-IP, X-Url-Scheme,
#: X-Forwarded-Protocol), so that an untrusted peer cannot pass any of them on.
CATEGORIES: Mapping[str, tuple[str, ...]] = {
    "client address": (
        "forwarded",
        "x-forwarded-for",
        "x-real-ip",
        "x-client-ip",
        "x-cluster-client-ip",
    ),
    "scheme": (
        "forwarded",
        "x-forwarded-proto",
        "x-forwarded-scheme",
        "x-scheme",
        "x-forwarded-protocol",
        "x-url-scheme",
        "x-forwarded-ssl",
        "x-forwarded-https",
        "x-https",
    ),
    "host": ("forwarded", "x-forwarded-host", "x-host"),
    "port": ("x-forwarded-port",),
    "prefix": ("x-forwarded-prefix", "x-script-name", "x-forwarded-script-name"),
    "proxy": ("forwarded", "x-forwarded-by"),
}

#: The names accepted in ``trusted_proxy_headers`` (lower case, as HTTP header names).
KNOWN_PROXY_HEADERS = frozenset(name for names in CATEGORIES.values() for name in names)

#: Every known header as an environ name without ``HTTP_``: what an untrusted peer loses.
ALL_PROXY_HEADERS = frozenset(name.upper().replace("-", "_") for name in KNOWN_PROXY_HEADERS)

_ALL_KEYS = frozenset("HTTP_" + name for name in ALL_PROXY_HEADERS)
_ACRONYMS = {"IP": "IP", "SSL": "SSL", "HTTPS": "HTTPS"}
_DISPLAY = {
    "HTTP_" + name: "-".join(_ACRONYMS.get(part, part.capitalize()) for part in name.split("_"))
    for name in ALL_PROXY_HEADERS
}
MODES = ("count", "walk")


class MalformedProxyHeader(BastionError):
    """A trusted proxy header whose value breaks its grammar; answered with ``status``.

    ``header`` names the header and ``reason`` is fixed text; neither contains the
    value, which is kept in ``value`` only (``str()`` of the error leaves it out).
    """

    status = 400

    def __init__(self, header: str, reason: str, value: str) -> None:
        super().__init__(header, reason, value)
        self.header = header
        self.reason = reason
        self.value = value

    def __str__(self) -> str:
        return f"{self.header}: {self.reason}"


# -- option validators (the config layer calls these; the rules between options are in
# -- bastion.proxy_rules) -------------------------------------------------------------------


def validate_trusted_proxy_count(value: Any) -> int:
    """Check ``trusted_proxy_count``: an integer >= 1 (a decimal string is accepted)."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"trusted_proxy_count: expected an integer >= 1, got {value!r}")
    return value


def validate_trusted_proxy_headers(value: Any) -> frozenset[str]:
    """Check ``trusted_proxy_headers``: names from ``KNOWN_PROXY_HEADERS``, any case."""
    if value is None:
        return frozenset()
    headers = frozenset(name.lower() for name in option_names(value, "trusted_proxy_headers"))
    unknown = headers - KNOWN_PROXY_HEADERS
    if unknown:
        raise ValueError(
            f"trusted_proxy_headers: unknown header {', '.join(sorted(unknown))}; "
            f"expected some of {', '.join(sorted(KNOWN_PROXY_HEADERS))}"
        )
    return headers


def validate_trusted_proxy_mode(value: Any) -> str:
    """Check ``trusted_proxy_mode``: ``count`` (waitress's hop count) or ``walk`` (mod_wsgi's)."""
    if value not in MODES:
        raise ValueError(f"trusted_proxy_mode: expected 'count' or 'walk', got {value!r}")
    return str(value)


# -- the policy --------------------------------------------------------------------------------

# Single-valued headers: (name, category, parser), in precedence order within a category.
_SINGLE_VALUED: tuple[tuple[str, str, Callable[[str], Any]], ...] = (
    ("x-real-ip", "client", parse_address),
    ("x-client-ip", "client", parse_address),
    ("x-cluster-client-ip", "client", parse_address),
    ("x-forwarded-proto", "scheme", parse_proto),
    ("x-forwarded-scheme", "scheme", parse_proto),
    ("x-scheme", "scheme", parse_proto),
    ("x-forwarded-protocol", "scheme", parse_protocol),
    ("x-url-scheme", "scheme", parse_proto),
    ("x-forwarded-ssl", "scheme", parse_flag),
    ("x-forwarded-https", "scheme", parse_flag),
    ("x-https", "scheme", parse_flag),
    ("x-host", "host", parse_host),
    ("x-forwarded-port", "port", parse_port),
    ("x-forwarded-prefix", "prefix", parse_prefix),
    ("x-script-name", "prefix", parse_prefix),
    ("x-forwarded-script-name", "prefix", parse_prefix),
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _key(name: str) -> str:
    return "HTTP_" + name.upper().replace("-", "_")


def _checked(key: str, raw: str, parse: Callable[[str], Any]) -> Any:
    try:
        return parse(raw)
    except InvalidValue as error:
        raise MalformedProxyHeader(_DISPLAY[key], str(error), raw) from None


def _one(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda raw: parse(unquote(single(raw)))


class ProxyPolicy:
    """The trusted-proxy rules, compiled once from the options; ``apply`` runs per request."""

    __slots__ = (
        "_drop_trusted",
        "_singles",
        "_trusted_keys",
        "clear_untrusted",
        "count",
        "headers",
        "log_untrusted",
        "logger",
        "mode",
        "peers",
    )

    def __init__(
        self,
        peers: TrustedPeers,
        headers: frozenset[str],
        count: int = 1,
        clear_untrusted: bool = True,
        log_untrusted: bool = False,
        mode: str = "count",
        logger: logging.Logger = logger,
    ) -> None:
        self.peers, self.headers, self.count, self.mode = peers, headers, count, mode
        self.clear_untrusted, self.log_untrusted, self.logger = (
            clear_untrusted,
            log_untrusted,
            logger,
        )
        self._trusted_keys = frozenset(_key(name) for name in headers)
        self._drop_trusted = _ALL_KEYS - self._trusted_keys
        self._singles = tuple(
            (_key(name), category, _one(parse))
            for name, category, parse in _SINGLE_VALUED
            if name in headers
        )

    @classmethod
    def from_options(
        cls,
        trusted_proxy: Any = None,
        trusted_proxy_count: Any = None,
        trusted_proxy_headers: Any = None,
        clear_untrusted: bool = True,
        log_untrusted: bool = False,
        trusted_proxy_mode: str = "count",
        logger: logging.Logger = logger,
    ) -> ProxyPolicy:
        """Validate the options (ValueError names the bad one) and compile them.

        The rules between them are bastion.proxy_rules': headers named without
        trusted_proxy are trusted from loopback and unix-socket peers only.  No header
        is trusted implicitly: serve()'s waitress default is the configuration's.
        """
        entries = validate_trusted_proxy(trusted_proxy)
        count = (
            rules.DEFAULT_COUNT
            if trusted_proxy_count is None
            else validate_trusted_proxy_count(trusted_proxy_count)
        )
        headers = validate_trusted_proxy_headers(trusted_proxy_headers)
        mode = validate_trusted_proxy_mode(trusted_proxy_mode)
        implied = rules.implied_trusted_proxy(entries, headers)
        if implied != entries:
            logger.info(
                "trusted_proxy_headers set without trusted_proxy: trusting %s only from "
                "loopback and unix-socket peers",
                ", ".join(sorted(headers)),
            )
        rules.check_mode(implied, mode)
        peers = TrustedPeers(implied or ())
        return cls(peers, headers, count, clear_untrusted, log_untrusted, mode, logger)

    def apply(self, environ: dict[str, Any]) -> None:
        """Rewrite ``environ`` if its peer is trusted; drop untrusted proxy headers.

        Raises MalformedProxyHeader, leaving ``environ`` unchanged, when a trusted header
        breaks its grammar.
        """
        if _ALL_KEYS.isdisjoint(environ):
            return
        peer = environ.get("REMOTE_ADDR")
        if self.peers.trusts(environ):
            if not self._trusted_keys.isdisjoint(environ):
                self.rewrite(environ)
            untrusted = self._drop_trusted
        else:
            untrusted = _ALL_KEYS
        if self.clear_untrusted or self.log_untrusted:
            present = untrusted.intersection(environ)
            if present:
                self._drop(environ, present, peer)

    def _drop(self, environ: dict[str, Any], present: frozenset[str], peer: Any) -> None:
        if self.clear_untrusted:
            for key in present:
                del environ[key]
        if self.log_untrusted:
            self.logger.warning(
                "%s untrusted proxy headers from %s: %s",
                "Removed" if self.clear_untrusted else "Ignored",
                "unix socket" if environ.get(PEER_KIND_KEY) == "unix" else peer,
                ", ".join(sorted(_DISPLAY[key] for key in present)),
            )

    def rewrite(self, environ: dict[str, Any]) -> None:
        """Apply the trusted headers to ``environ``, whatever its peer."""
        get = environ.get
        found: dict[str, Any] = {}  # category -> value; the first found has precedence
        updates: dict[str, str] = {}  # headers trimmed to their trusted part
        hops = self.count
        raw_fwd = get("HTTP_FORWARDED") if "forwarded" in self.headers else None
        if raw_fwd is not None:
            fwd = _checked("HTTP_FORWARDED", raw_fwd, self._forwarded)
            if fwd is not None:
                values, hops, trimmed = fwd
                found.update(values)
                if trimmed is not None:
                    updates["HTTP_FORWARDED"] = trimmed
        raw = get("HTTP_X_FORWARDED_FOR") if "x-forwarded-for" in self.headers else None
        if raw is not None:
            xff = _checked("HTTP_X_FORWARDED_FOR", raw, self._forwarded_for)
            if xff is not None:
                client, hops, trimmed = xff
                _agree(found, "client", client, raw_fwd, "X-Forwarded-For")
                if trimmed is not None:
                    updates["HTTP_X_FORWARDED_FOR"] = trimmed
        raw = get("HTTP_X_FORWARDED_HOST") if "x-forwarded-host" in self.headers else None
        if raw is not None:
            items = list_items(raw)
            hosts = _checked("HTTP_X_FORWARDED_HOST", raw, lambda _: _hosts(items[-hops:]))
            if hosts:
                _agree(found, "host", hosts[0], raw_fwd, "X-Forwarded-Host")
            if len(items) > hops:
                updates["HTTP_X_FORWARDED_HOST"] = ", ".join(items[-hops:])
        for key, category, parse in self._singles:
            raw = get(key)
            if raw is not None:
                value = _checked(key, raw, parse)
                if key == "HTTP_X_FORWARDED_PROTO":
                    _agree(found, category, value, raw_fwd, "X-Forwarded-Proto")
                else:
                    found.setdefault(category, value)
        environ.update(updates)
        _apply(environ, found)

    def _forwarded(self, raw: str) -> tuple[dict[str, Any], int, str | None] | None:
        elements = parse_forwarded(raw)
        if not elements:
            return None
        index = max(0, len(elements) - self.count)
        if self.mode == "walk":
            index = 0
            for position in range(len(elements) - 1, -1, -1):
                text = elements[position][0].for_
                address = parse_node(text).address if text else None
                if address is None or not self.peers.contains(address):
                    index = position
                    break
        trusted = elements[index:]
        values: dict[str, Any] = {}
        # The oldest trusted element carrying a parameter wins: intermediate proxies may
        # rewrite host or proto, but the first one saw what the client asked for.  In walk
        # mode the client is the element the walk stopped at, even when it hides its address.
        for element, _ in reversed(trusted):
            if element.by:
                parse_node(element.by)
            if element.for_ or self.mode == "walk":
                values["client"] = parse_node(element.for_) if element.for_ else None
            if element.host:
                values["host"] = parse_host(element.host)
            if element.proto:
                values["scheme"] = parse_proto(element.proto)
        client = values.get("client")
        if client is None or client.address is None:
            values.pop("client", None)
        trimmed = raw[trusted[0][1] :].strip() if index else None
        return values, len(trusted), trimmed

    def _forwarded_for(self, raw: str) -> tuple[Node, int, str | None] | None:
        items = list_items(raw)
        if not items:
            return None
        index = max(0, len(items) - self.count)
        if self.mode == "walk":
            index = 0
            for position in range(len(items) - 1, -1, -1):
                if not self.peers.contains(parse_address(items[position]).address or ""):
                    index = position
                    break
        nodes = [parse_address(item) for item in items[index:]]
        return nodes[0], len(nodes), ", ".join(items[index:]) if index else None


def _hosts(items: list[str]) -> list[tuple[str, str | None]]:
    return [parse_host(unquote(item)) for item in items]


def _agree(found: dict[str, Any], category: str, value: Any, raw_fwd: Any, name: str) -> None:
    """Record ``value`` unless Forwarded said otherwise; a contradiction is malformed."""
    previous = found.setdefault(category, value)
    if getattr(previous, "address", previous) != getattr(value, "address", value):
        raise MalformedProxyHeader(
            "Forwarded", f"names a different {category} than {name}", raw_fwd or ""
        )


def _apply(environ: dict[str, Any], found: Mapping[str, Any]) -> None:
    port = found.get("port")
    scheme = found.get("scheme")
    if scheme:
        environ["wsgi.url_scheme"] = scheme
        port = port or _DEFAULT_PORTS[scheme]
    host = found.get("host")
    if host:
        name, host_port = host
        environ["SERVER_NAME"] = name
        if host_port:
            port = host_port
            environ["HTTP_HOST"] = f"{name}:{host_port}"
        elif port and port != _DEFAULT_PORTS.get(environ.get("wsgi.url_scheme", "")):
            environ["HTTP_HOST"] = f"{name}:{port}"
        else:
            environ["HTTP_HOST"] = name
    if port:
        environ["SERVER_PORT"] = port
    client = found.get("client")
    if client is not None and client.address is not None:
        environ["REMOTE_ADDR"] = environ["REMOTE_HOST"] = client.address
        # The peer's port belongs to the proxy: with the client's unknown, none is given.
        environ["REMOTE_PORT"] = client.port or ""
    prefix = found.get("prefix")
    if prefix is not None:
        environ["SCRIPT_NAME"] = prefix + environ.get("SCRIPT_NAME", "")


# -- waitress's API ----------------------------------------------------------------------------


# The one module-level memo left, and no server's: only waitress's free function below
# uses it.  What it holds is immutable (compiled policies), and lru_cache is thread-safe.
@functools.lru_cache(maxsize=64)
def _any_peer_policy(count: int, headers: frozenset[str], logger: logging.Logger) -> ProxyPolicy:
    return ProxyPolicy(TrustedPeers(("*",)), headers, count, logger=logger)


def parse_proxy_headers(
    environ: dict[str, Any],
    trusted_proxy_count: int,
    trusted_proxy_headers: Iterable[str] | None,
    logger: logging.Logger = logger,
) -> set[str]:
    """Apply ``trusted_proxy_headers`` to ``environ`` from a peer already known to be trusted.

    Returns the untrusted header names (environ style, without ``HTTP_``) for the caller
    to clear; raises MalformedProxyHeader when a trusted header is malformed.
    """
    headers = validate_trusted_proxy_headers(trusted_proxy_headers)
    policy = _any_peer_policy(validate_trusted_proxy_count(trusted_proxy_count), headers, logger)
    policy.rewrite(environ)
    return {key[5:] for key in policy._drop_trusted}


def _bad_request(error: MalformedProxyHeader, start_response: Callable[..., Any]) -> list[bytes]:
    body = f'Bad Request\r\n\r\nHeader "{error.header}" malformed.\r\n'.encode("latin-1")
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response("400 Bad Request", headers)
    return [body]


def proxy_headers_middleware(
    app: Callable[..., Any],
    trusted_proxy: Any = None,
    trusted_proxy_count: int = 1,
    trusted_proxy_headers: Any = None,
    clear_untrusted: bool = True,
    log_untrusted: bool = False,
    logger: logging.Logger = logger,
    *,
    trusted_proxy_mode: str = "count",
) -> Callable[..., Any]:
    """Wrap the WSGI ``app`` so it sees the client as the trusted proxy describes it.

    A malformed trusted header is answered ``400 Bad Request`` with a fixed body that
    names the header, never its value.  Unlike serve(), no header is trusted implicitly.
    """
    policy = ProxyPolicy.from_options(
        trusted_proxy,
        trusted_proxy_count,
        trusted_proxy_headers,
        clear_untrusted,
        log_untrusted,
        trusted_proxy_mode,
        logger,
    )

    def translate_proxy_headers(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            policy.apply(environ)
        except MalformedProxyHeader as error:
            logger.warning(
                'Malformed proxy header "%s" from %s: %s',
                error.header,
                environ.get("REMOTE_ADDR"),
                error.reason,
            )
            return _bad_request(error, start_response)
        return app(environ, start_response)

    return translate_proxy_headers
