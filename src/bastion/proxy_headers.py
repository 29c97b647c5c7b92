"""Trusted proxy headers: the documented import path of :mod:`bastion.proxy.policy`.

``proxy_headers_middleware`` and ``parse_proxy_headers`` work on any WSGI server; the
option validators check the trusted_proxy* options as ``serve()`` does.
"""

from .proxy.policy import (
    ALL_PROXY_HEADERS,
    KNOWN_PROXY_HEADERS,
    PEER_KIND_KEY,
    PROXY_HEADERS,
    Forwarded,
    MalformedProxyHeader,
    ProxyPolicy,
    TrustedPeers,
    parse_proxy_headers,
    proxy_headers_middleware,
    validate_trusted_proxy,
    validate_trusted_proxy_count,
    validate_trusted_proxy_headers,
    validate_trusted_proxy_mode,
)

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
