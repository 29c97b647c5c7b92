"""The PROXY protocol v1/v2 preamble parser, byte by byte."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from bastion_testing import imported_modules
from hypothesis import given, settings
from hypothesis import strategies as st

import bastion
from bastion.proxy.protocol import (
    V1_MAX_LENGTH,
    V2_MAX_ADDRESS_LENGTH,
    V2_SIGNATURE,
    ProxyInfo,
    ProxyProtocolError,
    parse_proxy_header,
)

REQUEST = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"


def v2(ver_cmd: int, family: int, block: bytes, length: int | None = None) -> bytes:
    """A v2 header: signature, version/command byte, family byte, length, address block."""
    size = len(block) if length is None else length
    return V2_SIGNATURE + bytes([ver_cmd, family]) + size.to_bytes(2, "big") + block


def tlv(kind: int, value: bytes) -> bytes:
    return bytes([kind]) + len(value).to_bytes(2, "big") + value


INET4_BLOCK = bytes([192, 0, 2, 1, 198, 51, 100, 7]) + (51234).to_bytes(2, "big") + b"\x01\xbb"
INET6_BLOCK = (
    ipaddress.IPv6Address("2001:db8::1").packed
    + ipaddress.IPv6Address("2001:db8::2").packed
    + (40000).to_bytes(2, "big")
    + (80).to_bytes(2, "big")
)


def test_module_does_no_io():
    imported = imported_modules(
        Path(bastion.__file__).parent / "proxy" / "protocol.py", "bastion.proxy"
    )
    # _forwarded is bastion's pure address grammar (tests/proxy/test_proxy_purity.py), and
    # http.authority the engine's port rule (sans-IO, as all of bastion.http).
    assert imported <= {
        "__future__",
        "ipaddress",
        "typing",
        "bastion.proxy.forwarded",
        "bastion.http.authority",
    }


def test_error_is_a_value_error():
    assert issubclass(ProxyProtocolError, ValueError)


# -- version 1 -----------------------------------------------------------------------------------


def test_v1_tcp4_and_the_bytes_after_it():
    header = b"PROXY TCP4 192.0.2.1 198.51.100.7 51234 443\r\n"
    consumed, info = parse_proxy_header(header + REQUEST)
    assert consumed == len(header)
    assert info == ProxyInfo("PROXY", "TCP4", "192.0.2.1", 51234, "198.51.100.7", 443)


def test_v1_tcp6_address_is_canonicalised():
    header = b"PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 1 65535\r\n"
    assert parse_proxy_header(header) == (
        len(header),
        ProxyInfo("PROXY", "TCP6", "2001:db8::1", 1, "::1", 65535),
    )


def test_v1_accepts_bytearray():
    header = bytearray(b"PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n")
    assert parse_proxy_header(header) == (
        len(header),
        ProxyInfo("PROXY", "TCP4", "10.0.0.1", 1, "10.0.0.2", 2),
    )


@pytest.mark.parametrize(
    "header",
    [
        b"PROXY UNKNOWN\r\n",
        b"PROXY UNKNOWN ffff::1 ffff::2 65535 65535\r\n",
        b"PROXY UNKNOWN anything the sender likes\r\n",
    ],
)
def test_v1_unknown_keeps_the_real_peer(header):
    assert parse_proxy_header(header + REQUEST) == (
        len(header),
        ProxyInfo("PROXY", "UNKNOWN", None, None, None, None),
    )


def test_v1_longest_line_the_specification_allows():
    address = ":".join(["ffff"] * 8).encode()
    header = b"PROXY UNKNOWN " + address + b" " + address + b" 65535 65535\r\n"
    assert len(header) == V1_MAX_LENGTH
    assert parse_proxy_header(header) == (
        V1_MAX_LENGTH,
        ProxyInfo("PROXY", "UNKNOWN", None, None, None, None),
    )
    longest_tcp6 = b"PROXY TCP6 " + address + b" " + address + b" 65535 65535\r\n"
    assert parse_proxy_header(longest_tcp6)[1].source_addr == "ffff:" * 7 + "ffff"


def test_v1_without_crlf_in_107_bytes_is_refused():
    line = b"PROXY UNKNOWN " + b"x" * (V1_MAX_LENGTH - 14)
    assert len(line) == V1_MAX_LENGTH
    assert parse_proxy_header(line[:-1]) is None
    with pytest.raises(ProxyProtocolError, match="107"):
        parse_proxy_header(line)
    with pytest.raises(ProxyProtocolError, match="107"):
        parse_proxy_header(line + b"\r\n")


@pytest.mark.parametrize(
    "data",
    [
        b"PROXI TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
        b"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
        b"PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n",
        b"PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n",
        b"PROXY\r\n",
    ],
)
def test_v1_bad_signature(data):
    with pytest.raises(ProxyProtocolError, match="signature"):
        parse_proxy_header(data)


@pytest.mark.parametrize(
    "line",
    [
        b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2",
        b"PROXY tcp4 1.2.3.4 5.6.7.8 1 2",
        b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2",
        b"PROXY UNKNOWNX",
        b"PROXY ",
        b"PROXY  TCP4 1.2.3.4 5.6.7.8 1 2",
    ],
)
def test_v1_bad_protocol(line):
    with pytest.raises(ProxyProtocolError, match="TCP4, TCP6 or UNKNOWN"):
        parse_proxy_header(line + b"\r\n")


@pytest.mark.parametrize(
    "line",
    [
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1",
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3",
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ",
        b"PROXY TCP4",
        b"PROXY TCP4 ",
    ],
)
def test_v1_wrong_field_count(line):
    with pytest.raises(ProxyProtocolError, match="SRC DST SPORT DPORT"):
        parse_proxy_header(line + b"\r\n")


@pytest.mark.parametrize(
    "line",
    [
        b"PROXY TCP4 1.2.3.04 5.6.7.8 1 2",  # leading zero: octal confusion
        b"PROXY TCP4 1.2.3.256 5.6.7.8 1 2",
        b"PROXY TCP4 1.2.3 5.6.7.8 1 2",
        b"PROXY TCP4 1.2.3.4 5.6.7.8.9 1 2",
        b"PROXY TCP4 ::1 5.6.7.8 1 2",  # not the announced family
        b"PROXY TCP4 1.2.3.4 ::1 1 2",
        b"PROXY TCP4 localhost 5.6.7.8 1 2",
        b"PROXY TCP4  1.2.3.4 5.6.7.8 1",  # two spaces: an empty address
        b"PROXY TCP6 1.2.3.4 ::1 1 2",
        b"PROXY TCP6 ::1 5.6.7.8 1 2",
        b"PROXY TCP6 fe80::1%eth0 ::1 1 2",
        b"PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2",
        b"PROXY TCP6 12345::1 ::1 1 2",
        b"PROXY TCP6 [::1] ::1 1 2",
    ],
)
def test_v1_bad_address(line):
    with pytest.raises(ProxyProtocolError, match="address"):
        parse_proxy_header(line + b"\r\n")


# Port 0, which the specification allows, is refused by bastion's one port rule.
@pytest.mark.parametrize(
    "port", [b"65536", b"080", b"00", b"0", b"-1", b"+80", b"1e3", b"0x50", b""]
)
@pytest.mark.parametrize("position", ["source", "dest"])
def test_v1_bad_port(port, position):
    ports = port + b" 80" if position == "source" else b"80 " + port
    with pytest.raises(ProxyProtocolError, match="port"):
        parse_proxy_header(b"PROXY TCP4 1.2.3.4 5.6.7.8 " + ports + b"\r\n")


@pytest.mark.parametrize("ports", [b"\x00\x00\x01\xbb", b"\xc8\x22\x00\x00"])
def test_v2_port_zero_is_refused(ports):
    block = bytes([192, 0, 2, 1, 198, 51, 100, 7]) + ports
    with pytest.raises(ProxyProtocolError, match=r"^PROXY v2 port must be 1-65535$"):
        parse_proxy_header(v2(0x21, 0x11, block))


@pytest.mark.parametrize(
    "data",
    [
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",  # LF alone
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",  # CR alone
        b"PROXY TCP4 1.2.3.4\r 5.6.7.8 1 2\r\n",
        b"PROXY TCP4 1.2.3.4 5.6.7.8\x001 2\r\n",
        b"PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n",
        b"PROXY UNKNOWN \xff\r\n",
        b"PROXY TCP4 1.2.3.4 5.6.7.8 \xd9\xa3 2\r\n",  # a non-ASCII digit
    ],
)
def test_v1_control_and_non_ascii_bytes(data):
    with pytest.raises(ProxyProtocolError, match="printable US-ASCII"):
        parse_proxy_header(data)


def test_v1_a_bad_byte_is_refused_before_the_line_ends():
    with pytest.raises(ProxyProtocolError):
        parse_proxy_header(b"PROXY TCP4 1.2.3.4\n")
    assert parse_proxy_header(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r") is None


# -- version 2 -----------------------------------------------------------------------------------


def test_v2_tcp4_as_haproxy_sends_it():
    # A header HAProxy's send-proxy-v2 wrote: 172.19.0.1:42578 -> 172.19.0.3:80.
    header = bytes.fromhex("0d0a0d0a000d0a515549540a2111000cac130001ac130003a6520050")
    consumed, info = parse_proxy_header(header + REQUEST)
    assert consumed == 28
    assert info == ProxyInfo("PROXY", "TCP4", "172.19.0.1", 42578, "172.19.0.3", 80)


def test_v2_tcp6():
    header = v2(0x21, 0x21, INET6_BLOCK)
    assert parse_proxy_header(header + REQUEST) == (
        16 + 36,
        ProxyInfo("PROXY", "TCP6", "2001:db8::1", 40000, "2001:db8::2", 80),
    )


def test_v2_tlvs_are_skipped():
    tlvs = tlv(0x01, b"h2") + tlv(0x04, b"") + tlv(0x05, b"id-1") + tlv(0x20, b"\x01" + bytes(4))
    header = v2(0x21, 0x11, INET4_BLOCK + tlvs)
    consumed, info = parse_proxy_header(header + REQUEST)
    assert consumed == len(header)
    assert (info.source_addr, info.source_port, info.dest_port) == ("192.0.2.1", 51234, 443)


def test_v2_accepts_the_longest_allowed_header():
    padding = tlv(0x04, bytes(V2_MAX_ADDRESS_LENGTH - 12 - 3))
    header = v2(0x21, 0x11, INET4_BLOCK + padding)
    assert len(header) == 16 + V2_MAX_ADDRESS_LENGTH
    assert parse_proxy_header(header)[0] == len(header)


@pytest.mark.parametrize("length", [V2_MAX_ADDRESS_LENGTH + 1, 0xFFFF])
def test_v2_refuses_longer_headers_before_reading_them(length):
    with pytest.raises(ProxyProtocolError, match="longer than allowed"):
        parse_proxy_header(v2(0x21, 0x11, b"", length=length))


def test_v2_length_bound_is_a_parameter():
    header = v2(0x21, 0x11, INET4_BLOCK + tlv(0x04, bytes(20)))
    assert parse_proxy_header(header, max_v2_length=35)[0] == len(header)
    with pytest.raises(ProxyProtocolError, match="longer than allowed"):
        parse_proxy_header(header, max_v2_length=34)


@pytest.mark.parametrize(
    ("family", "block"),
    [(0x00, b""), (0x11, INET4_BLOCK), (0x21, INET6_BLOCK), (0x99, b"junk"), (0x11, b"x")],
)
def test_v2_local_keeps_the_real_peer_and_ignores_the_block(family, block):
    header = v2(0x20, family, block)
    assert parse_proxy_header(header + REQUEST) == (
        len(header),
        ProxyInfo("LOCAL", "UNKNOWN", None, None, None, None),
    )


@pytest.mark.parametrize(
    ("family", "block", "name"),
    [
        (0x00, b"", "UNKNOWN"),
        (0x00, b"opaque", "UNKNOWN"),
        (0x12, INET4_BLOCK, "UNKNOWN"),  # UDP: fall back to the real peer
        (0x22, INET6_BLOCK, "UNKNOWN"),
        (0x31, b"/run/a.sock".ljust(108, b"\0") + b"/run/b.sock".ljust(108, b"\0"), "UNIX"),
        (0x32, bytes(216), "UNKNOWN"),
    ],
)
def test_v2_families_without_an_inet_address(family, block, name):
    header = v2(0x21, family, block)
    assert parse_proxy_header(header) == (
        len(header),
        ProxyInfo("PROXY", name, None, None, None, None),
    )


@pytest.mark.parametrize("ver_cmd", [0x11, 0x31, 0x01, 0xF1])
def test_v2_bad_version(ver_cmd):
    with pytest.raises(ProxyProtocolError, match="version"):
        parse_proxy_header(v2(ver_cmd, 0x11, INET4_BLOCK))


@pytest.mark.parametrize("ver_cmd", [0x22, 0x2F])
def test_v2_bad_command(ver_cmd):
    with pytest.raises(ProxyProtocolError, match="command"):
        parse_proxy_header(v2(ver_cmd, 0x11, INET4_BLOCK))


@pytest.mark.parametrize("family", [0x01, 0x10, 0x13, 0x20, 0x33, 0x41, 0xFF])
def test_v2_bad_family(family):
    with pytest.raises(ProxyProtocolError, match="family"):
        parse_proxy_header(v2(0x21, family, INET4_BLOCK))


@pytest.mark.parametrize(
    ("family", "block"),
    [
        (0x11, INET4_BLOCK[:-1]),
        (0x11, b""),
        (0x21, INET6_BLOCK[:-1]),
        (0x21, INET4_BLOCK),
        (0x12, INET4_BLOCK[:4]),
        (0x31, bytes(215)),
    ],
)
def test_v2_truncated_address_block(family, block):
    with pytest.raises(ProxyProtocolError, match="truncated"):
        parse_proxy_header(v2(0x21, family, block))


@pytest.mark.parametrize(
    "tlvs",
    [
        b"\x04",
        b"\x04\x00",
        tlv(0x04, b"") + b"\x04\x00",
        b"\x04\x00\x05abcd",
        tlv(0x01, b"h2") + b"\x05\xff\xff",
    ],
)
def test_v2_truncated_tlv(tlvs):
    with pytest.raises(ProxyProtocolError, match="TLV"):
        parse_proxy_header(v2(0x21, 0x11, INET4_BLOCK + tlvs))


@pytest.mark.parametrize(
    "data",
    [
        b"\r\n\r\n\x01\r\nQUIT\n!\x11\x00\x0c",
        b"\r\n\r\nGET / HTTP/1.1\r\n",
        b"\r\r",
        b"\r\n\r\n\x00\r\nQUIX\n",
    ],
)
def test_v2_bad_signature(data):
    with pytest.raises(ProxyProtocolError, match="signature"):
        parse_proxy_header(data)


# -- neither -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [REQUEST, b"\x16\x03\x01\x02\x00", b"\x00", b" PROXY TCP4", b"\n\r\n"]
)
def test_anything_else_is_refused_at_once(data):
    with pytest.raises(ProxyProtocolError):
        parse_proxy_header(data[:1])


def test_nothing_yet_needs_more():
    assert parse_proxy_header(b"") is None
    assert parse_proxy_header(bytearray()) is None


# -- split feeding -------------------------------------------------------------------------------

VALID_HEADERS = [
    b"PROXY TCP4 192.0.2.1 198.51.100.7 51234 443\r\n",
    b"PROXY TCP6 2001:db8::1 ::1 1 65535\r\n",
    b"PROXY UNKNOWN\r\n",
    v2(0x21, 0x11, INET4_BLOCK),
    v2(0x21, 0x21, INET6_BLOCK + tlv(0x02, b"example.com")),
    v2(0x20, 0x00, b""),
    v2(0x21, 0x00, b"whatever"),
]


@pytest.mark.parametrize("header", VALID_HEADERS)
def test_every_prefix_needs_more_and_the_whole_header_parses(header):
    whole = parse_proxy_header(header + REQUEST)
    assert whole is not None
    assert whole[0] == len(header)
    for cut in range(len(header)):
        assert parse_proxy_header(header[:cut]) is None, cut
        assert parse_proxy_header(bytearray(header[:cut])) is None, cut
    assert parse_proxy_header(header) == whole


@pytest.mark.parametrize("header", VALID_HEADERS)
def test_fed_one_byte_at_a_time(header):
    received = bytearray()
    results = []
    for byte in header + REQUEST:
        received.append(byte)
        results.append(parse_proxy_header(received))
    first = next(i for i, result in enumerate(results) if result is not None)
    assert first == len(header) - 1
    assert {result for result in results[first:]} == {results[first]}


# -- properties ----------------------------------------------------------------------------------

SEEDS = [b"", b"PROXY ", b"PROXY TCP4 ", b"PROXY TCP6 ", b"PROXY UNKNOWN", V2_SIGNATURE]
SEEDS += [V2_SIGNATURE + bytes([c, f]) for c in (0x20, 0x21) for f in (0x00, 0x11, 0x21, 0x31)]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(SEEDS), st.binary(max_size=300))
def test_any_bytes_only_raise_proxy_protocol_error(seed, tail):
    data = seed + tail
    try:
        result = parse_proxy_header(data)
    except ProxyProtocolError:
        return
    if result is not None:
        consumed, info = result
        assert 0 < consumed <= len(data)
        assert info.command in ("PROXY", "LOCAL")
        assert info.family in ("TCP4", "TCP6", "UNKNOWN", "UNIX")
        assert (info.source_addr is None) == (info.family not in ("TCP4", "TCP6"))


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)),
    st.integers(1, 0xFFFF),
    st.integers(1, 0xFFFF),
    st.binary(max_size=40),
)
def test_generated_headers_round_trip(address, sport, dport, tail):
    version = address.version
    text = f"PROXY TCP{version} {address} {address} {sport} {dport}\r\n".encode()
    family = 0x11 if version == 4 else 0x21
    block = address.packed * 2 + sport.to_bytes(2, "big") + dport.to_bytes(2, "big")
    # An IPv4-mapped IPv6 address is reported as the IPv4 address it stands for.
    shown = str(getattr(address, "ipv4_mapped", None) or address)
    expected = ProxyInfo("PROXY", f"TCP{version}", shown, sport, shown, dport)
    for header in (text, v2(0x21, family, block)):
        assert parse_proxy_header(header + tail) == (len(header), expected)
        assert parse_proxy_header(header[: len(header) // 2]) is None
