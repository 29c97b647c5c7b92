"""PROXY v2's PP2_TYPE_SSL TLV: whether the client reached the proxy over TLS (issue 9, 8)."""

from __future__ import annotations

import ipaddress

import pytest

from bastion.proxy.protocol import (
    PP2_CLIENT_SSL,
    PP2_TYPE_SSL,
    V2_SIGNATURE,
    ProxyInfo,
    ProxyProtocolError,
    parse_proxy_header,
)

INET4_BLOCK = bytes([192, 0, 2, 1, 198, 51, 100, 7]) + (51234).to_bytes(2, "big") + b"\x01\xbb"
INET6_BLOCK = (
    ipaddress.IPv6Address("2001:db8::1").packed
    + ipaddress.IPv6Address("2001:db8::2").packed
    + (40000).to_bytes(2, "big")
    + (443).to_bytes(2, "big")
)
UNIX_BLOCK = b"/run/a.sock".ljust(108, b"\0") + b"/run/b.sock".ljust(108, b"\0")
VERIFIED = bytes(4)  # the verify field: 0, the client certificate (if any) was verified


def v2(command: int, family: int, block: bytes) -> bytes:
    return V2_SIGNATURE + bytes([command, family]) + len(block).to_bytes(2, "big") + block


def tlv(kind: int, value: bytes) -> bytes:
    return bytes([kind]) + len(value).to_bytes(2, "big") + value


def ssl_tlv(client: int, sub_tlvs: bytes = b"") -> bytes:
    return tlv(PP2_TYPE_SSL, bytes([client]) + VERIFIED + sub_tlvs)


def ssl_of(data: bytes) -> bool | None:
    result = parse_proxy_header(data)
    assert result is not None
    return result[1].ssl


def test_the_constants_are_the_specification_s():
    assert (PP2_TYPE_SSL, PP2_CLIENT_SSL) == (0x20, 0x01)


@pytest.mark.parametrize(
    ("client", "ssl"),
    [
        (0x01, True),  # PP2_CLIENT_SSL
        (0x07, True),  # ... with a client certificate, on the connection and the session
        (0x00, False),
        (0x06, False),  # certificate flags without PP2_CLIENT_SSL
    ],
)
def test_the_client_flag_decides(client, ssl):
    assert ssl_of(v2(0x21, 0x11, INET4_BLOCK + ssl_tlv(client))) is ssl


def test_as_haproxy_sends_it_with_sub_tlvs_and_other_tlvs_around():
    version = tlv(0x21, b"TLSv1.3")  # PP2_SUBTYPE_SSL_VERSION
    cipher = tlv(0x23, b"TLS_AES_256_GCM_SHA384")  # PP2_SUBTYPE_SSL_CIPHER
    tlvs = tlv(0x01, b"h2") + ssl_tlv(PP2_CLIENT_SSL, version + cipher) + tlv(0x04, b"")
    header = v2(0x21, 0x21, INET6_BLOCK + tlvs)
    assert parse_proxy_header(header) == (
        len(header),
        ProxyInfo("PROXY", "TCP6", "2001:db8::1", 40000, "2001:db8::2", 443, True),
    )


def test_no_ssl_tlv_says_nothing():
    assert ssl_of(v2(0x21, 0x11, INET4_BLOCK + tlv(0x02, b"example.com"))) is None
    assert ssl_of(v2(0x21, 0x11, INET4_BLOCK)) is None


def test_v1_says_nothing():
    assert ssl_of(b"PROXY TCP4 192.0.2.1 198.51.100.7 51234 443\r\n") is None


def test_local_ignores_it():
    # LOCAL is the proxy's own connection (a health check): its block, TLVs included, is ignored.
    assert ssl_of(v2(0x20, 0x11, INET4_BLOCK + ssl_tlv(PP2_CLIENT_SSL))) is None


def test_a_family_without_an_inet_address_still_reports_it():
    info = parse_proxy_header(v2(0x21, 0x31, UNIX_BLOCK + ssl_tlv(PP2_CLIENT_SSL)))[1]
    assert (info.family, info.source_addr, info.ssl) == ("UNIX", None, True)


@pytest.mark.parametrize("value", [b"", b"\x01", b"\x01\x00\x00\x00"])
def test_an_ssl_tlv_too_short_for_its_fields_is_refused(value):
    with pytest.raises(ProxyProtocolError, match="SSL TLV is truncated"):
        parse_proxy_header(v2(0x21, 0x11, INET4_BLOCK + tlv(PP2_TYPE_SSL, value)))


def test_a_repeated_ssl_tlv_is_refused():
    # Two verdicts on one connection: believing either would let the other be forged.
    tlvs = ssl_tlv(0x00) + ssl_tlv(PP2_CLIENT_SSL)
    with pytest.raises(ProxyProtocolError, match="SSL TLV is repeated"):
        parse_proxy_header(v2(0x21, 0x11, INET4_BLOCK + tlvs))


def test_an_ssl_tlv_running_past_the_header_is_refused():
    truncated = bytes([PP2_TYPE_SSL]) + (10).to_bytes(2, "big") + b"\x01" + VERIFIED
    with pytest.raises(ProxyProtocolError, match="TLV is truncated"):
        parse_proxy_header(v2(0x21, 0x11, INET4_BLOCK + truncated))
