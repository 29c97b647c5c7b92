"""Trusted hosts: the documented import path of :mod:`bastion.hosts`.

``TrustedHostMiddleware`` works with any WSGI server; ``HostPolicy`` is the check it and
the server run; the parsers check the allowed_hosts, allowed_ports and exempt-path options.
"""

from .hosts import policy as _policy
from .hosts.middleware import TrustedHostMiddleware
from .hosts.policy import *  # noqa: F403 (the public names, as policy.__all__ lists them)
from .hosts.policy import BAD_HOST_BODY

__all__ = [*_policy.__all__, "BAD_HOST_BODY", "TrustedHostMiddleware"]
