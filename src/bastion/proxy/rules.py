"""The rules between the trusted-proxy options: defaults one option takes from another, and
the combinations refused.  One function per rule.

Each option's own grammar is checked by its validator in :mod:`bastion.proxy_headers`.
The configuration (``serve()``, the command line, ``--print-config``, ``bastion check``)
applies every rule here once, when it is built; the middleware API
(``proxy_headers_middleware``, ``ProxyPolicy.from_options``) applies those that concern its
options.  Values given here are already validated.
"""

from __future__ import annotations

import warnings

#: ``trusted_proxy_count`` when unset.
DEFAULT_COUNT = 1
#: What trusting headers without naming a proxy trusts: this machine's peers.
LOCAL = ("local",)
_IMPLICIT_HEADERS = frozenset(("x-forwarded-proto",))


class Conflict(ValueError):
    """Two options that cannot go together; ``option`` names the one to change."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


def implied_trusted_proxy(
    trusted_proxy: tuple[str, ...] | None, headers: frozenset[str]
) -> tuple[str, ...] | None:
    """``trusted_proxy``, or ``('local',)`` when headers are trusted and no proxy is named.

    Headers named with no proxy are trusted from loopback and unix-socket peers only
    (docs/proxies.md); waitress refuses this combination.
    """
    if trusted_proxy is None and headers:
        return LOCAL
    return trusted_proxy


def check_mode(trusted_proxy: tuple[str, ...] | None, mode: str) -> None:
    """``walk`` skips trusted addresses, so it needs them listed: not ``*``."""
    if mode == "walk" and trusted_proxy is not None and "*" in trusted_proxy:
        raise Conflict(
            "trusted_proxy_mode",
            "trusted_proxy_mode: 'walk' skips trusted addresses, so trusted_proxy must "
            "list addresses or networks, not '*'",
        )


def check_proxy_protocol(
    trusted_proxy: tuple[str, ...] | None, proxy_protocol: bool, proxy_protocol_headers: bool
) -> None:
    """The PROXY preamble is taken from trusted proxies only; its headers option needs it."""
    if proxy_protocol and trusted_proxy is None:
        raise Conflict(
            "proxy_protocol",
            "proxy_protocol requires trusted_proxy: name the proxies allowed to send the "
            "PROXY preamble (addresses, CIDR networks, 'local' or 'unix')",
        )
    if proxy_protocol_headers and not proxy_protocol:
        raise Conflict(
            "proxy_protocol_headers",
            "proxy_protocol_headers applies only with proxy_protocol: without the preamble, "
            "trusted_proxy_headers from trusted_proxy peers count already",
        )


def headers_apply(proxy_protocol: bool, proxy_protocol_headers: bool) -> bool:
    """Whether trusted_proxy_headers count at all: behind a PROXY-protocol balancer in TCP
    mode every header is the client's own, so only ``proxy_protocol_headers`` lets them."""
    return not proxy_protocol or proxy_protocol_headers


def preamble_only_headers(headers: frozenset[str], stacklevel: int = 2) -> frozenset[str]:
    """No headers, when they do not apply (:func:`headers_apply`); a warning if some were named."""
    if headers:
        warnings.warn(
            "proxy_protocol without proxy_protocol_headers: the PROXY preamble names the "
            "client, and trusted_proxy_headers are ignored and removed from every request; "
            "turn on proxy_protocol_headers only behind a balancer in HTTP mode that sets "
            "them",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
    return frozenset()


def serve_default_headers(
    trusted_proxy: tuple[str, ...] | None, headers: frozenset[str], stacklevel: int = 2
) -> frozenset[str]:
    """``headers``, or waitress's ``serve()`` default when a proxy is named without them:
    X-Forwarded-Proto, with a DeprecationWarning.  The middleware trusts nothing implicitly."""
    if trusted_proxy is None or headers:
        return headers
    warnings.warn(
        "trusted_proxy is set but trusted_proxy_headers is empty: implicitly trusting "
        "X-Forwarded-Proto, as waitress does; set trusted_proxy_headers explicitly",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )
    return _IMPLICIT_HEADERS
