"""Converters: turn an option's raw value (a Python object, or the string a CLI flag, an
environment variable or a PasteDeploy ini file gives) into its typed value, or refuse it.

Every converter accepts strings, so any source can set any option (except ``sockets``).
A refusal is a ``ValueError`` whose message says what the option accepts; the caller
adds the option's name and source.  Converters for addresses and sockets are in
``addresses.py``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from .._booleans import BOOL_ACCEPTS, parse_bool
from ..hosts import policy as trusted_hosts
from ..proxy import policy as proxy_headers

_SIZE_SUFFIXES = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_SIZE = re.compile(r"(\d+)\s*([kmg]?)(?:i?b)?", re.IGNORECASE)
_TIME_UNITS = {"": 1.0, "s": 1.0, "ms": 0.001, "m": 60.0, "h": 3600.0}
_SECONDS = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?", re.IGNORECASE)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


class Converter:
    """A named conversion: ``accepts`` describes the valid inputs for error messages and
    docs; ``kind`` is the short type name shown in docs/options.md."""

    __slots__ = ("accepts", "func", "kind")

    def __init__(self, kind: str, accepts: str, func: Callable[[Any], Any]) -> None:
        self.kind = kind
        self.accepts = accepts
        self.func = func

    def __call__(self, value: Any) -> Any:
        return self.func(value)

    def __repr__(self) -> str:
        return f"<converter {self.kind}: {self.accepts}>"


def refuse(accepts: str, value: Any) -> ValueError:
    """The error for a refused ``value``: what was expected, what was given."""
    return ValueError(f"expected {accepts}, got {value!r}")


def check_printable(text: str, accepts: str) -> str:
    """``text`` unchanged, or a refusal if it holds control characters."""
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise refuse(accepts, text)
    return text


# -- booleans --------------------------------------------------------------------------------


def _to_bool(value: Any) -> bool:
    try:
        return parse_bool(value)
    except ValueError:
        raise refuse(BOOL_ACCEPTS, value) from None


to_bool = Converter("bool", BOOL_ACCEPTS, _to_bool)


# -- numbers ---------------------------------------------------------------------------------


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def parse_int(value: Any, accepts: str) -> int:
    """An int from an int, an integral float or a decimal string (never a bool)."""
    if isinstance(value, bool):
        raise refuse(accepts, value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise refuse(accepts, value)


def _in_bounds(number: Any, minimum: Any, maximum: Any) -> bool:
    return (minimum is None or number >= minimum) and (maximum is None or number <= maximum)


def integer(minimum: int | None = 0, maximum: int | None = None) -> Converter:
    """An integer within bounds; strings are parsed as decimal."""
    accepts = "an integer" + _bounds(minimum, maximum)

    def convert(value: Any) -> int:
        number = parse_int(value, accepts)
        if not _in_bounds(number, minimum, maximum):
            raise refuse(accepts, value)
        return number

    return Converter("int", accepts, convert)


def optional(converter: Converter) -> Converter:
    """``converter``, or None for None or an empty string."""
    accepts = f"{converter.accepts}, or empty for none"

    def convert(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return converter(value)
        except ValueError:
            raise refuse(accepts, value) from None

    return Converter(converter.kind, accepts, convert)


def byte_size(minimum: int = 0) -> Converter:
    """A count of bytes: an integer, or a string with a K, M or G suffix (1024-based)."""
    accepts = (
        "a size in bytes: an integer, or a number with a K, M or G suffix (1024-based)"
        + _bounds(minimum, None)
    )

    def convert(value: Any) -> int:
        if isinstance(value, str):
            match = _SIZE.fullmatch(value.strip())
            if match is None:
                raise refuse(accepts, value)
            number = int(match.group(1)) * _SIZE_SUFFIXES[match.group(2).lower()]
        else:
            number = parse_int(value, accepts)
        if number < minimum:
            raise refuse(accepts, value)
        return number

    return Converter("bytes", accepts, convert)


def seconds(minimum: float = 0.0, allow_zero: bool = True) -> Converter:
    """A duration in seconds as a float; strings may carry an ms, s, m or h suffix."""
    bound = f">= {minimum:g}" if allow_zero else f"> {minimum:g}"
    accepts = f"a number of seconds {bound} (a suffix ms, s, m or h is also accepted)"

    def convert(value: Any) -> float:
        if isinstance(value, bool):
            raise refuse(accepts, value)
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            match = _SECONDS.fullmatch(value.strip())
            if match is None:
                raise refuse(accepts, value)
            number = float(match.group(1)) * _TIME_UNITS[(match.group(2) or "").lower()]
        else:
            raise refuse(accepts, value)
        if not math.isfinite(number) or number < minimum or (not allow_zero and number == 0):
            raise refuse(accepts, value)
        return number

    return Converter("seconds", accepts, convert)


def _to_octal_mode(value: Any) -> int:
    accepts = "file permissions as an octal string such as '600' (or an int such as 0o600)"
    if isinstance(value, str):
        try:
            mode = int(value.strip(), 8)
        except ValueError:
            raise refuse(accepts, value) from None
    elif isinstance(value, int) and not isinstance(value, bool):
        mode = value
    else:
        raise refuse(accepts, value)
    if not 0 <= mode <= 0o777:
        raise refuse(accepts + " from 0 to 777", value)
    return mode


to_octal_mode = Converter(
    "octal", "file permissions as an octal string such as '600'", _to_octal_mode
)


# -- strings ---------------------------------------------------------------------------------


def text(accepts: str = "a string", allow_empty: bool = True) -> Converter:
    """A string without control characters; ints are not silently turned into strings."""

    def convert(value: Any) -> str:
        if not isinstance(value, str) or (not allow_empty and not value):
            raise refuse(accepts, value)
        return check_printable(value, accepts)

    return Converter("str", accepts, convert)


def choice(*values: str) -> Converter:
    """One of ``values`` (case-insensitive; returned lower-case)."""
    accepts = "one of " + ", ".join(repr(v) for v in values)

    def convert(value: Any) -> str:
        if isinstance(value, str) and value.strip().lower() in values:
            return value.strip().lower()
        raise refuse(accepts, value)

    return Converter("choice", accepts, convert)


IDENT_ACCEPTS = "a Server header value (printable text; empty sends no Server header)"


def _to_ident(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise refuse(IDENT_ACCEPTS, value)
    return check_printable(value.strip(), IDENT_ACCEPTS)


to_ident = Converter("str", IDENT_ACCEPTS, _to_ident)

URL_PREFIX_ACCEPTS = "a URL path prefix such as '/app' (empty for none)"


def _to_url_prefix(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or any(ch.isspace() for ch in value.strip()):
        raise refuse(URL_PREFIX_ACCEPTS, value)
    prefix = check_printable(value.strip(), URL_PREFIX_ACCEPTS).strip("/")
    # Like waitress: one leading slash, no trailing slash, empty stays empty; unlike
    # waitress, "/" becomes empty too (SCRIPT_NAME "/" would break PATH_INFO).
    return "/" + prefix if prefix else ""


to_url_prefix = Converter("str", URL_PREFIX_ACCEPTS, _to_url_prefix)

TOKEN_ACCEPTS = "a value without spaces (an IP address, or '*' for any)"


def _to_token(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.split()) != 1:
        raise refuse(TOKEN_ACCEPTS, value)
    return check_printable(value.strip(), TOKEN_ACCEPTS)


to_token = Converter("str", TOKEN_ACCEPTS, _to_token)

SCHEME_ACCEPTS = "a URL scheme such as 'http' or 'https'"


def _to_scheme(value: Any) -> str:
    if isinstance(value, str) and _SCHEME.fullmatch(value.strip()):
        return value.strip().lower()
    raise refuse(SCHEME_ACCEPTS, value)


to_scheme = Converter("str", SCHEME_ACCEPTS, _to_scheme)


# -- proxy options (validated by the policy module, which owns their grammar) ---------------


def _from_validator(kind: str, accepts: str, validate: Any) -> Converter:
    def convert(value: Any) -> Any:
        try:
            return validate(value)
        except ValueError as error:
            raise ValueError(f"{error} (got {value!r})") from None

    return Converter(kind, accepts, convert)


PROXY_HEADERS_ACCEPTS = "proxy header names separated by spaces or commas, from: " + ", ".join(
    sorted(proxy_headers.KNOWN_PROXY_HEADERS)
)
to_proxy_headers = _from_validator(
    "set", PROXY_HEADERS_ACCEPTS, proxy_headers.validate_trusted_proxy_headers
)
to_trusted_proxy = _from_validator(
    "list",
    "IP addresses or CIDR networks separated by spaces or commas, '*' (any peer), 'local' "
    "(loopback and unix-socket peers) or 'unix' (unix-socket peers); empty for none",
    proxy_headers.validate_trusted_proxy,
)


# -- trusted hosts (validated by the module that matches them) -------------------------------

to_allowed_hosts = _from_validator(
    "list", trusted_hosts.ALLOWED_HOSTS_ACCEPTS, trusted_hosts.parse_allowed_hosts
)
to_allowed_ports = _from_validator(
    "list", trusted_hosts.ALLOWED_PORTS_ACCEPTS, trusted_hosts.parse_allowed_ports
)
to_exempt_paths = _from_validator(
    "list", trusted_hosts.EXEMPT_PATHS_ACCEPTS, trusted_hosts.parse_exempt_paths
)
