"""Trusted proxy headers: the documented import path of :mod:`bastion.proxy.policy`.

``proxy_headers_middleware`` and ``parse_proxy_headers`` work on any WSGI server; the
option validators check the trusted_proxy* options as ``serve()`` does.
"""

from .proxy.policy import *  # noqa: F403 (the public names, as policy.__all__ lists them)
from .proxy.policy import __all__  # noqa: F401
