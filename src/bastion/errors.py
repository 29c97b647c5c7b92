"""The exceptions bastion raises to its users: one root, then one class per kind of mistake."""

from __future__ import annotations


class BastionError(Exception):
    """Root of every exception bastion raises on purpose."""


class ConfigError(BastionError, ValueError):
    """An option is unknown, ill-typed, or conflicts with another.

    ``option`` names the offending option (``None`` when the problem spans
    several) and ``source`` says where its value came from, when known.
    """

    def __init__(self, message: str, option: str | None = None, source: str | None = None):
        super().__init__(message)
        self.option = option
        self.source = source


class RequestTimeout(BaseException):
    """Raised inside an application thread whose request ran past ``request_timeout``.

    Only with ``request_timeout_interrupt`` on.  It derives from BaseException, as
    KeyboardInterrupt does, so that an application's ``except Exception`` does not swallow
    it; ``finally`` blocks and context managers still run.
    """
