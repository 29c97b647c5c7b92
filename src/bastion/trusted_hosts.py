"""Trusted hosts: the documented import path of :mod:`bastion.hosts`.

``TrustedHostMiddleware`` works with any WSGI server; ``HostPolicy`` is the check it and
the server run; the parsers check the allowed_hosts, allowed_ports and exempt-path options.
"""

from .hosts.middleware import TrustedHostMiddleware
from .hosts.policy import (
    ALLOWED_HOSTS_ACCEPTS,
    ALLOWED_PORTS_ACCEPTS,
    BAD_HOST,
    BAD_HOST_BODY,
    EXEMPT_PATHS_ACCEPTS,
    HostPolicy,
    HostResponse,
    parse_allowed_hosts,
    parse_allowed_ports,
    parse_exempt_paths,
    split_host,
)

__all__ = [
    "ALLOWED_HOSTS_ACCEPTS",
    "ALLOWED_PORTS_ACCEPTS",
    "BAD_HOST",
    "BAD_HOST_BODY",
    "EXEMPT_PATHS_ACCEPTS",
    "HostPolicy",
    "HostResponse",
    "TrustedHostMiddleware",
    "parse_allowed_hosts",
    "parse_allowed_ports",
    "parse_exempt_paths",
    "split_host",
]
