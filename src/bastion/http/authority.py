"""Hosts and ports written together: ``host[:port]`` and ``[IP-literal][:port]``, by one rule.

They appear in the Host header and the request target (RFC 9110 7.2, RFC 9112 3.2), in
Forwarded and X-Forwarded-* values, and in the ``listen`` option; the PROXY protocol
writes ports alone.  :func:`split_authority` splits them and :func:`parse_port` checks a
port; what a host may be (a reg-name, an IPv6 address) is the caller's rule, except for
:func:`is_host`, the engine's check of a Host value.

A port written in a message is 1 to 5 ASCII digits without leading zeros, 1-65535; an empty
port (``example.com:``) is refused.  Port 0, "any free port", means something only to a
listening socket, which asks for it with ``any_port=True``.
"""

from __future__ import annotations

from .grammar import HOST_RE

MAX_PORT = 65535
_MAX_PORT_DIGITS = 5

_host_match = HOST_RE.fullmatch


class AuthorityError(ValueError):
    """Text that is not an authority or a port; ``str()`` is fixed text, never the value."""


def check_port(port: int, *, any_port: bool = False) -> int:
    """``port`` when it is 1-65535 (0-65535 with ``any_port``)."""
    lowest = 0 if any_port else 1
    if not lowest <= port <= MAX_PORT:
        raise AuthorityError(f"port out of range {lowest}-{MAX_PORT}")
    return port


def parse_port(text: str, *, any_port: bool = False) -> int:
    """A port written as decimal digits without leading zeros, 1-65535 (0 with ``any_port``)."""
    if not (0 < len(text) <= _MAX_PORT_DIGITS and text.isascii() and text.isdigit()):
        raise AuthorityError("port is not a number")
    if text[0] == "0" and len(text) > 1:
        raise AuthorityError("port has leading zeros")
    return check_port(int(text), any_port=any_port)


def split_authority(text: str) -> tuple[str, str | None]:
    """``host[:port]`` or ``[literal][:port]`` as (host, port text or None).

    An IP literal keeps its brackets and is not looked inside; the port is not checked
    (``host:`` gives ``""``, which :func:`parse_port` refuses).  Refused: an unterminated
    bracket, anything but ``:port`` after one, a bracket in a host name, and a second colon
    outside brackets (an IPv6 address needs them).
    """
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise AuthorityError("unterminated IPv6 bracket")
        host, rest = text[: close + 1], text[close + 1 :]
        if not rest:
            return host, None
        if rest[0] != ":":
            raise AuthorityError("garbage after IPv6 address")
        return host, rest[1:]
    host, colon, port = text.partition(":")
    if ":" in port:
        raise AuthorityError("IPv6 address without brackets")
    if "[" in host or "]" in host:
        raise AuthorityError("bracket in a host name")
    return host, port if colon else None


def is_host(value: str) -> bool:
    """Whether ``value`` is a valid Host (RFC 9110 7.2): uri-host [":" port], port as above."""
    return _checked(value, port_required=False)


def is_authority_form(value: str) -> bool:
    """Whether ``value`` is an authority-form target (RFC 9112 3.2.3): uri-host ":" port."""
    return _checked(value, port_required=True)


def _checked(value: str, port_required: bool) -> bool:
    match = _host_match(value)
    if match is None:
        return False
    port = match.group(1)
    if port is None:
        return not port_required
    try:
        parse_port(port)
    except AuthorityError:
        return False
    return True
