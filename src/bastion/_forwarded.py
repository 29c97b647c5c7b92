"""The grammar of what reverse proxies send, and of the addresses bastion trusts them at.

Header values (RFC 7239 ``Forwarded``, the X-Forwarded-* family): pure functions over
``str`` that return a normalised value or raise :class:`InvalidValue`, whose reason is
fixed text from this module: it never contains the value, so it is safe to log or to
put in a response.  Trusted addresses: ``validate_trusted_proxy`` checks the option and
:class:`TrustedPeers` matches peers against it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)
from typing import Any, NamedTuple
from urllib.parse import unquote_to_bytes

from ._word_lists import split_words
from .http.authority import AuthorityError, split_authority
from .http.authority import parse_port as port_number
from .http.grammar import OWS, QUOTED_STRING, TOKEN, split_list
from .http.memo import Bound, remember

#: The environ key a server sets when REMOTE_ADDR is not the immediate peer's address:
#: ``"unix"`` for a peer on a unix socket, or the peer's IP address when the PROXY
#: protocol set REMOTE_ADDR to the client's.
PEER_KIND_KEY = "bastion.peer"


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


# -- trusted addresses -----------------------------------------------------------------------

_LOOPBACK = (IPv4Network("127.0.0.0/8"), IPv6Network("::1/128"))
_MAPPED = IPv6Network("::ffff:0:0/96")
_KEYWORDS = ("*", "local", "unix")


def option_names(value: Any, option: str) -> list[str]:
    """The entries of a list option given as a string (commas or spaces) or a list of strings."""
    if isinstance(value, str):
        return split_words(value)
    if isinstance(value, Iterable) and all(isinstance(item, str) for item in value):
        return [part for item in value for part in split_words(item)]
    raise ValueError(f"{option}: expected a string or a list of strings, got {value!r}")


def validate_trusted_proxy(value: Any) -> tuple[str, ...] | None:
    """Check ``trusted_proxy``: None, or addresses, CIDR networks, ``*``, ``local``, ``unix``.

    A string may list several, separated by commas or spaces.  Returns the entries in
    canonical form (an address becomes a /32 or /128 network); None when there are none.
    """
    if value is None:
        return None
    result = []
    for entry in option_names(value, "trusted_proxy"):
        if entry.lower() in _KEYWORDS:
            result.append(entry.lower())
            continue
        try:
            result.append(str(_unmapped_network(ip_network(entry.strip("[]"), strict=True))))
        except ValueError:
            raise ValueError(
                f"trusted_proxy: {entry!r} is not an IP address, a CIDR network (host bits "
                "zero, e.g. 10.0.0.0/8), '*' (any peer), 'local' (loopback and unix-socket "
                "peers) or 'unix' (unix-socket peers)"
            ) from None
    if "*" in result and len(result) > 1:
        raise ValueError("trusted_proxy: '*' trusts every peer and cannot be combined")
    return tuple(result) or None


# Addresses a TrustedPeers already looked up, up to 64 characters (an IPv6 address with
# a zone and brackets is at most 63): 1,024 x 64 = 64 KiB per TrustedPeers.
_KNOWN_PEERS = Bound(1024, 64, lambda address, trusted: len(address))


class TrustedPeers:
    """Answers "is this address a trusted proxy?" for entries from ``validate_trusted_proxy``."""

    __slots__ = ("_known", "any", "networks", "unix")

    def __init__(self, entries: Iterable[str]) -> None:
        entries = tuple(entries)
        self.any = "*" in entries
        nets: list[IPv4Network | IPv6Network] = []
        for entry in entries:
            if entry == "local":
                nets.extend(_LOOPBACK)
            elif entry not in _KEYWORDS:
                nets.append(ip_network(entry))
        self.networks = tuple(nets)
        # A unix socket is reachable only from this host, so whoever trusts a loopback
        # address (which any local process can connect from) trusts it too.
        self.unix = self.any or "unix" in entries or any(_is_loopback(net) for net in nets)
        self._known: dict[str, bool] = {}  # addresses already looked up (_KNOWN_PEERS)

    def contains(self, address: str) -> bool:
        """True when ``address`` (IP text, brackets allowed) is in a trusted network."""
        known = self._known.get(address)
        if known is None:
            known = self._contains(address)
            remember(self._known, address, known, _KNOWN_PEERS)
        return known

    def _contains(self, address: str) -> bool:
        if self.any:
            return True
        try:
            ip = ip_address(address.strip("[]"))
        except ValueError:
            return False
        ip = unmapped(ip)
        return any(ip in net for net in self.networks)

    def trusts(self, environ: Mapping[str, Any]) -> bool:
        """True when the request's immediate peer is a trusted proxy."""
        peer = environ.get(PEER_KIND_KEY)
        if peer == "unix":
            return self.unix
        if peer is None:
            peer = environ.get("REMOTE_ADDR")
        return isinstance(peer, str) and self.contains(peer)


def _unmapped_network(net: IPv4Network | IPv6Network) -> IPv4Network | IPv6Network:
    """An IPv4-mapped IPv6 network (``::ffff:10.0.0.0/104``) as the IPv4 one it stands for."""
    if isinstance(net, IPv6Network) and net.prefixlen >= 96 and net.subnet_of(_MAPPED):
        return IPv4Network((unmapped(net.network_address), net.prefixlen - 96))
    return net


def _is_loopback(net: IPv4Network | IPv6Network) -> bool:
    return any(net.overlaps(loop) for loop in _LOOPBACK if loop.version == net.version)
