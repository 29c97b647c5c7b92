"""The grammar of what reverse proxies send: RFC 7239 ``Forwarded`` and the X-Forwarded-*s.

Pure functions over ``str`` that return a normalised value or raise :class:`InvalidValue`,
whose reason is fixed text from this module: it never contains the value, so it is safe to
log or to put in a response.
"""

from __future__ import annotations

import re
from ipaddress import (
    IPv4Address,
    IPv6Address,
    ip_address,
)
from typing import NamedTuple
from urllib.parse import unquote_to_bytes

from ..http.authority import AuthorityError, split_authority
from ..http.authority import parse_port as port_number
from ..http.grammar import OWS, QUOTED_STRING, TOKEN, split_list


class InvalidValue(ValueError):
    """A header value that does not follow its grammar; ``str()`` is a fixed reason."""


class Forwarded(NamedTuple):
    """One RFC 7239 forwarded-element; a parameter the element lacks is ``""``."""

    by: str
    for_: str
    host: str
    proto: str


class Node(NamedTuple):
    """An RFC 7239 node: ``address`` is None for ``unknown`` and obfuscated names."""

    address: str | None
    port: str | None


# RFC 7239 4: no whitespace around "=" or ";".
_PAIR = re.compile(rf"({TOKEN})=({TOKEN}|{QUOTED_STRING})")
_QUOTED_ONLY = re.compile(QUOTED_STRING)
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)
# RFC 7239 6.3: obfnode / obfport.
_OBFUSCATED = re.compile(r"_[A-Za-z0-9._-]+")
# A reg-name restricted to RFC 3986 unreserved characters: DNS names, IPv4, "_" and "~".
_REG_NAME = re.compile(r"[A-Za-z0-9._~-]+")
# An absolute path of RFC 3986 pchars; percent-escapes are decoded afterwards.
_PREFIX = re.compile(r"(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)+")

_FLAG_VALUES = {"on": "https", "true": "https", "1": "https", "yes": "https"}
_FLAG_VALUES.update({"off": "http", "false": "http", "0": "http", "no": "http"})


def unquote(value: str) -> str:
    """``value`` with a surrounding quoted-string removed; a stray quote is invalid."""
    if value.startswith('"'):
        if not _QUOTED_ONLY.fullmatch(value):
            raise InvalidValue("invalid quoted-string")
        return _QUOTED_PAIR.sub(r"\1", value[1:-1])
    if '"' in value:
        raise InvalidValue("stray quote character")
    return value


def list_items(value: str) -> list[str]:
    """The non-empty members of a comma-separated list, stripped (RFC 9110 5.6.1)."""
    return [item for item in split_list(value) if item]


def single(value: str) -> str:
    """The one member of a header that must not be a list."""
    if "," in value:
        raise InvalidValue("multiple values where one is expected")
    item = value.strip(OWS)
    if not item:
        raise InvalidValue("empty value")
    return item


def parse_port(text: str) -> str:
    """A TCP port as :mod:`bastion.http.authority` reads one: 1-65535, no leading zeros."""
    try:
        port_number(text)
    except AuthorityError as error:
        raise InvalidValue(str(error)) from None
    return text


def _split(text: str) -> tuple[str, str | None]:
    try:
        return split_authority(text)
    except AuthorityError as error:
        raise InvalidValue(str(error)) from None


def unmapped(ip: IPv4Address | IPv6Address) -> IPv4Address | IPv6Address:
    """``ip``, or the IPv4 address an IPv4-mapped IPv6 address (``::ffff:a.b.c.d``) stands for.

    A dual-stack socket reports IPv4 clients in the mapped form; every address bastion
    compares or reports goes through here, so one client has one spelling.
    """
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def plain_ip(text: str) -> str:
    """A socket's address text with an IPv4-mapped IPv6 address given as IPv4; else as is."""
    if not text.startswith("::ffff:"):
        return text
    try:
        return str(unmapped(IPv6Address(text)))
    except ValueError:
        return text


def parse_ip(text: str) -> str:
    """An IPv4 or IPv6 address in its canonical text form (no zone, no brackets, unmapped)."""
    if "%" in text or not text.isascii():
        raise InvalidValue("not an IP address")
    try:
        return str(unmapped(ip_address(text)))
    except ValueError:
        raise InvalidValue("not an IP address") from None


def _ipv6(text: str) -> IPv6Address:
    if "%" in text or not text.isascii():
        raise InvalidValue("not an IPv6 address")
    try:
        return IPv6Address(text)
    except ValueError:
        raise InvalidValue("not an IPv6 address") from None


def _parse_ipv6_node(text: str) -> str:
    """A bracketed client address: IPv6, or IPv4 when it is IPv4-mapped."""
    return str(unmapped(_ipv6(text)))


def parse_address(entry: str) -> Node:
    """An X-Forwarded-For / X-Real-IP entry: ``ip``, ``[ipv6]``, ``ipv4:port``, ``[ipv6]:port``.

    The entry may be a quoted-string, as some proxies quote IPv6 addresses.
    """
    entry = unquote(entry)
    if entry.count(":") > 1 and not entry.startswith("["):
        return Node(parse_ip(entry), None)  # an IPv6 address without brackets has no port
    host, port = _split(entry)
    if host.startswith("["):
        address = _parse_ipv6_node(host[1:-1])
    elif port is None:
        address = parse_ip(host)
    else:
        address = _ipv4(host, "not an IP address")
    return Node(address, None if port is None else parse_port(port))


def parse_node(text: str) -> Node:
    """An RFC 7239 node (section 6): IPv4, ``[IPv6]``, ``unknown`` or ``_obfuscated``, + port."""
    name, port = _split(text)
    address: str | None
    if name.startswith("["):
        address = _parse_ipv6_node(name[1:-1])
    elif name.lower() == "unknown" or _OBFUSCATED.fullmatch(name):
        address = None
    else:
        address = _ipv4(name, "node is not an address, unknown or obfuscated")
    if port is None or _OBFUSCATED.fullmatch(port):
        return Node(address, None)
    return Node(address, parse_port(port))


def _ipv4(text: str, reason: str) -> str:
    try:
        return str(IPv4Address(text))
    except ValueError:
        raise InvalidValue(reason) from None


def parse_host(text: str) -> tuple[str, str | None]:
    """A Host value ``name[:port]`` or ``[ipv6][:port]`` as (name, port or None)."""
    name, port = _split(text)
    if name.startswith("["):
        name = "[" + str(_ipv6(name[1:-1])) + "]"
    elif _REG_NAME.fullmatch(name):
        name = name.lower()
    else:
        raise InvalidValue("invalid host name")
    return name, None if port is None else parse_port(port)


def parse_proto(text: str) -> str:
    """``http`` or ``https``, case-insensitively; any other scheme is refused."""
    proto = text.lower()
    if proto not in ("http", "https"):
        raise InvalidValue("scheme is not http or https")
    return proto


def parse_protocol(text: str) -> str:
    """X-Forwarded-Protocol: a scheme as :func:`parse_proto` reads it, or ``ssl`` for https.

    ``ssl`` is what gunicorn's default ``secure_scheme_headers`` expects a proxy to send.
    """
    return "https" if text.lower() == "ssl" else parse_proto(text)


def parse_flag(text: str) -> str:
    """X-Forwarded-SSL style on/off flags (on, true, 1, yes / off, false, 0, no) as a scheme."""
    try:
        return _FLAG_VALUES[text.lower()]
    except KeyError:
        raise InvalidValue("flag is not on/off, true/false, yes/no or 1/0") from None


def parse_prefix(text: str) -> str:
    """A mount point for SCRIPT_NAME: an absolute path, decoded, without its trailing slash."""
    if not _PREFIX.fullmatch(text):
        raise InvalidValue("prefix is not an absolute path")
    path = unquote_to_bytes(text).decode("latin-1") if "%" in text else text
    segments = path.split("/")
    if "." in segments or ".." in segments or any(ord(ch) < 32 or ch == "\x7f" for ch in path):
        raise InvalidValue("prefix has dot segments or control characters")
    return path.rstrip("/")


def parse_forwarded(value: str) -> list[tuple[Forwarded, int]]:
    """Split a ``Forwarded`` value into elements, each with its start offset in ``value``.

    Checks the RFC 7239 section 4 syntax, including quoted-strings (which may hold
    commas and semicolons) and the rule that a parameter occurs once per element.
    Parameter values are returned unquoted but otherwise unchecked.
    """
    elements: list[tuple[Forwarded, int]] = []
    pos, end = 0, len(value)
    while True:
        while pos < end and value[pos] in OWS:
            pos += 1
        if pos >= end:
            return elements
        start = pos
        params: dict[str, str] = {}
        while True:
            match = _PAIR.match(value, pos)
            if match:
                name = match.group(1).lower()
                if name in params:
                    raise InvalidValue("parameter repeated in one element")
                params[name] = unquote(match.group(2))
                pos = match.end()
            if pos < end and value[pos] == ";":
                pos += 1
                continue
            break
        while pos < end and value[pos] in OWS:
            pos += 1
        if pos < end:
            if value[pos] != ",":
                raise InvalidValue("invalid forwarded-element syntax")
            pos += 1
        if params:
            fields = (params.get(key, "") for key in ("by", "for", "host", "proto"))
            elements.append((Forwarded(*fields), start))
