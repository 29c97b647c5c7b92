"""The exceptions bastion raises to its users: one root, then one class per kind of mistake."""

from __future__ import annotations

from collections.abc import Mapping


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


def with_source(error: ConfigError, sources: Mapping[str, str]) -> str:
    """``error``'s message, followed by where its option's value came from when it says not.

    Errors raised at start-up (privileges' "no such user", say) know the option, not who set
    it; ``sources`` (a ``Config``'s) does: ``user: no such user 'x' (set by env BASTION_USER)``.
    """
    message = str(error)
    source = error.source or sources.get(error.option or "")
    if not source or source == "default" or source in message:
        return message
    return f"{message} (set by {source})"


class RequestTimeout(BaseException):
    """Raised inside an application thread whose request ran past ``request_timeout``.

    Only with ``request_timeout_interrupt`` on.  It derives from BaseException, as
    KeyboardInterrupt does, so that an application's ``except Exception`` does not swallow
    it; ``finally`` blocks and context managers still run.
    """
