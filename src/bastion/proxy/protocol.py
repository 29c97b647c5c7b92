"""The PROXY protocol preamble (HAProxy's "proxy-protocol.txt", versions 1 and 2), sans-IO.

A proxy that speaks it opens every connection with one header naming the client's address
before any HTTP byte. :func:`parse_proxy_header` is fed the bytes received so far and answers
``None`` while more are needed, ``(consumed, ProxyInfo)`` once the header is complete, and raises
:class:`ProxyProtocolError` as soon as the bytes cannot start a valid header. Error messages are
fixed text: they never echo the peer's bytes.
"""

from __future__ import annotations

import ipaddress
from typing import Literal, NamedTuple

from ..http.authority import AuthorityError, check_port, parse_port
from .forwarded import unmapped

__all__ = [
    "PP2_CLIENT_SSL",
    "PP2_TYPE_SSL",
    "V1_MAX_LENGTH",
    "V2_MAX_ADDRESS_LENGTH",
    "V2_SIGNATURE",
    "ProxyInfo",
    "ProxyProtocolError",
    "parse_proxy_header",
]

V1_PREFIX = b"PROXY "
# The longest v1 line the specification allows, CRLF included.
V1_MAX_LENGTH = 107
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_FIXED_LENGTH = 16
# The v2 length field allows 65535; real headers (addresses plus a few TLVs) stay far below.
V2_MAX_ADDRESS_LENGTH = 4096

_PRINTABLE = bytes(range(0x20, 0x7F))

Command = Literal["PROXY", "LOCAL"]
Family = Literal["TCP4", "TCP6", "UNKNOWN", "UNIX"]


class ProxyProtocolError(ValueError):
    """The bytes are not a valid PROXY protocol header; the connection must be closed."""


class ProxyInfo(NamedTuple):
    """What the header says about the connection.

    Addresses are text (``"192.0.2.1"``, ``"2001:db8::1"``; an IPv4-mapped IPv6 address is given
    as IPv4, even in a TCP6 header), ports ints. All four are None for
    the LOCAL command (the proxy's own connection, e.g. a health check) and for the UNKNOWN and
    UNIX families: the server then keeps the real peer. ``ssl`` is what a v2 PP2_TYPE_SSL TLV
    says of the client's connection to the proxy: True for TLS (its PP2_CLIENT_SSL flag), False
    for none; None without that TLV, and always for LOCAL and v1.
    """

    command: Command
    family: Family
    source_addr: str | None
    source_port: int | None
    dest_addr: str | None
    dest_port: int | None
    ssl: bool | None = None


def _no_address(command: Command, family: Family, ssl: bool | None = None) -> ProxyInfo:
    return ProxyInfo(command, family, None, None, None, None, ssl)


def parse_proxy_header(
    data: bytes | bytearray, *, max_v2_length: int = V2_MAX_ADDRESS_LENGTH
) -> tuple[int, ProxyInfo] | None:
    """Parse the PROXY header at the start of ``data``.

    Returns None while ``data`` is a valid but incomplete beginning, otherwise the number of bytes
    the header takes and what it says (the bytes after it are the proxied stream). A v2 header
    announcing more than ``max_v2_length`` bytes after its fixed 16 is refused.
    """
    if not data:
        return None
    first = data[0]
    if first == V1_PREFIX[0]:
        return _parse_v1(bytes(data[:V1_MAX_LENGTH]))
    if first == V2_SIGNATURE[0]:
        return _parse_v2(data, max_v2_length)
    raise ProxyProtocolError("connection does not start with a PROXY protocol signature")


# -- version 1: "PROXY TCP4 192.0.2.1 198.51.100.7 51234 443\r\n" -------------------------------


def _parse_v1(window: bytes) -> tuple[int, ProxyInfo] | None:
    if window[: len(V1_PREFIX)] != V1_PREFIX[: len(window)]:
        raise ProxyProtocolError("bad PROXY v1 signature")
    end = window.find(b"\r\n")
    if end < 0:
        if len(window) >= V1_MAX_LENGTH:
            raise ProxyProtocolError("PROXY v1 line has no CRLF within 107 bytes")
        # A CR is fine as the last byte received: its LF may follow.
        _check_text(window[:-1] if window.endswith(b"\r") else window)
        return None
    line = window[:end]
    _check_text(line)
    return end + 2, _parse_v1_line(line.decode("ascii"))


def _check_text(chunk: bytes) -> None:
    # The line is US-ASCII text: a lone CR or LF, a NUL or any other control byte is malformed.
    if chunk.translate(None, _PRINTABLE):
        raise ProxyProtocolError("PROXY v1 line holds a byte that is not printable US-ASCII")


def _parse_v1_line(line: str) -> ProxyInfo:
    parts = line.split(" ")
    protocol: Family
    if parts[1] == "UNKNOWN":
        # The specification: the receiver ignores whatever follows UNKNOWN on the line.
        return _no_address("PROXY", "UNKNOWN")
    if parts[1] == "TCP4":
        protocol = "TCP4"
    elif parts[1] == "TCP6":
        protocol = "TCP6"
    else:
        raise ProxyProtocolError("PROXY v1 protocol must be TCP4, TCP6 or UNKNOWN")
    if len(parts) != 6:
        raise ProxyProtocolError("PROXY v1 line must be 'PROXY TCPn SRC DST SPORT DPORT'")
    _, _, src, dst, sport, dport = parts
    return ProxyInfo(
        "PROXY",
        protocol,
        _v1_address(src, protocol),
        _v1_port(sport),
        _v1_address(dst, protocol),
        _v1_port(dport),
    )


def _v1_address(text: str, protocol: str) -> str:
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    try:
        if protocol == "TCP4":
            # ipaddress refuses leading zeros, as the specification does (no octal confusion).
            address = ipaddress.IPv4Address(text)
        else:
            if "%" in text:
                raise ValueError("zone index")
            address = ipaddress.IPv6Address(text)
    except ValueError:
        raise ProxyProtocolError(f"PROXY v1 address is not a valid {protocol} address") from None
    return str(unmapped(address))


def _v1_port(text: str) -> int:
    try:
        return parse_port(text)
    except AuthorityError:
        raise ProxyProtocolError("PROXY v1 port must be 1-65535 without leading zeros") from None


# -- version 2: 12-byte signature, version/command, family/transport, length, addresses, TLVs --

_COMMANDS: dict[int, Command] = {0x0: "LOCAL", 0x1: "PROXY"}
# The family/transport bytes the specification lists, with the length of their address block.
# Datagram transports make no sense on a stream; like AF_UNSPEC (length None: the block is
# opaque), they fall back to the real peer as the specification allows.
_FAMILIES: dict[int, tuple[Family, int | None]] = {
    0x00: ("UNKNOWN", None),
    0x11: ("TCP4", 12),
    0x12: ("UNKNOWN", 12),
    0x21: ("TCP6", 36),
    0x22: ("UNKNOWN", 36),
    0x31: ("UNIX", 216),
    0x32: ("UNKNOWN", 216),
}
_TLV_HEADER_LENGTH = 3
PP2_TYPE_SSL = 0x20
PP2_CLIENT_SSL = 0x01
# PP2_TYPE_SSL's value: the client flags (1 byte) and the verify result (4), then sub-TLVs.
_SSL_TLV_MIN_LENGTH = 5


def _parse_v2(data: bytes | bytearray, max_length: int) -> tuple[int, ProxyInfo] | None:
    fixed = bytes(data[:V2_FIXED_LENGTH])
    signature = fixed[: len(V2_SIGNATURE)]
    if signature != V2_SIGNATURE[: len(signature)]:
        raise ProxyProtocolError("bad PROXY v2 signature")
    if len(fixed) > 12:
        if fixed[12] >> 4 != 2:
            raise ProxyProtocolError("unsupported PROXY protocol version")
        if fixed[12] & 0x0F not in _COMMANDS:
            raise ProxyProtocolError("unknown PROXY v2 command")
    command = _COMMANDS[fixed[12] & 0x0F] if len(fixed) > 12 else "PROXY"
    # LOCAL ignores the family byte (the specification); PROXY must name a listed one.
    if len(fixed) > 13 and command == "PROXY" and fixed[13] not in _FAMILIES:
        raise ProxyProtocolError("unknown PROXY v2 address family or transport")
    if len(fixed) < V2_FIXED_LENGTH:
        return None
    length = int.from_bytes(fixed[14:16], "big")
    if length > max_length:
        raise ProxyProtocolError("PROXY v2 header is longer than allowed")
    total = V2_FIXED_LENGTH + length
    if len(data) < total:
        return None
    if command == "LOCAL":
        return total, _no_address("LOCAL", "UNKNOWN")
    family, address_length = _FAMILIES[fixed[13]]
    if address_length is None:
        return total, _no_address("PROXY", family)
    block = bytes(data[V2_FIXED_LENGTH:total])
    if len(block) < address_length:
        raise ProxyProtocolError("PROXY v2 address block is truncated")
    ssl = _read_tlvs(block[address_length:])
    if family == "TCP4":
        return total, _inet_info("TCP4", block, 4, ssl)
    if family == "TCP6":
        return total, _inet_info("TCP6", block, 16, ssl)
    return total, _no_address("PROXY", family, ssl)


def _inet_info(family: Family, block: bytes, size: int, ssl: bool | None) -> ProxyInfo:
    make = ipaddress.IPv4Address if size == 4 else ipaddress.IPv6Address
    ports = block[2 * size : 2 * size + 4]
    return ProxyInfo(
        "PROXY",
        family,
        str(unmapped(make(block[:size]))),
        _v2_port(ports[:2]),
        str(unmapped(make(block[size : 2 * size]))),
        _v2_port(ports[2:]),
        ssl,
    )


def _v2_port(field: bytes) -> int:
    try:
        return check_port(int.from_bytes(field, "big"))
    except AuthorityError:
        raise ProxyProtocolError("PROXY v2 port must be 1-65535") from None


def _read_tlvs(tlvs: bytes) -> bool | None:
    """Walk the type-length-value vectors after the addresses; they must fill the rest exactly.

    Returns the PP2_TYPE_SSL verdict (see ``ProxyInfo.ssl``); every other TLV is skipped.
    """
    # Each step advances by at least 3 bytes through at most max_length bytes.
    ssl = None
    position = 0
    while position < len(tlvs):
        if len(tlvs) - position < _TLV_HEADER_LENGTH:
            raise ProxyProtocolError("PROXY v2 TLV is truncated")
        kind = tlvs[position]
        size = int.from_bytes(tlvs[position + 1 : position + 3], "big")
        value = position + _TLV_HEADER_LENGTH
        position = value + size
        if position > len(tlvs):
            raise ProxyProtocolError("PROXY v2 TLV is truncated")
        if kind == PP2_TYPE_SSL:
            if ssl is not None:
                raise ProxyProtocolError("PROXY v2 SSL TLV is repeated")
            if size < _SSL_TLV_MIN_LENGTH:
                raise ProxyProtocolError("PROXY v2 SSL TLV is truncated")
            ssl = bool(tlvs[value] & PP2_CLIENT_SSL)
    return ssl
