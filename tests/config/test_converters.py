"""Every converter: the forms it accepts (and what they become) and the forms it refuses."""

from __future__ import annotations

import socket

import pytest

from bastion.config import addresses as a
from bastion.config import converters as c


def _accepts(converter, raw, expected):
    assert converter(raw) == expected


def _refuses(converter, raw):
    with pytest.raises(ValueError) as info:
        converter(raw)
    return str(info.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        (None, False),
        (1, True),
        (0, False),
        ("true", True),
        ("Yes", True),
        (" on ", True),
        ("1", True),
        ("t", True),
        ("y", True),
        ("false", False),
        ("NO", False),
        ("off", False),
        ("0", False),
        ("f", False),
        ("n", False),
        ("", False),
    ],
)
def test_to_bool_accepts(raw, expected):
    assert c.to_bool(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", "tru", "2", 2, -1, 1.0, [], "yes please"])
def test_to_bool_refuses_and_lists_the_accepted_words(raw):
    message = _refuses(c.to_bool, raw)
    assert "true/false" in message and repr(raw) in message


@pytest.mark.parametrize(("raw", "expected"), [("8", 8), (8, 8), (" 8 ", 8), (8.0, 8), (1, 1)])
def test_integer_accepts(raw, expected):
    _accepts(c.integer(1), raw, expected)


@pytest.mark.parametrize("raw", ["8.5", 8.5, True, "", "0", 0, None, "eight", "0x10", [8]])
def test_integer_refuses(raw):
    assert "an integer >= 1" in _refuses(c.integer(1), raw)


def test_integer_with_both_bounds_names_them():
    convert = c.integer(0, 10)
    assert convert("10") == 10
    assert "from 0 to 10" in _refuses(convert, "11")


@pytest.mark.parametrize(("raw", "expected"), [(None, None), ("", None), ("  ", None), ("3", 3)])
def test_optional_accepts_empty_as_none(raw, expected):
    _accepts(c.optional(c.integer(1)), raw, expected)


def test_optional_refuses_what_the_inner_converter_refuses():
    assert "or empty for none" in _refuses(c.optional(c.integer(1)), "0")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1024, 1024),
        ("1024", 1024),
        ("512K", 524288),
        ("512k", 524288),
        ("16M", 16 * 1024**2),
        ("1G", 1024**3),
        ("1kb", 1024),
        ("2KiB", 2048),
        ("0", 0),
    ],
)
def test_byte_size_accepts(raw, expected):
    _accepts(c.byte_size(0), raw, expected)


@pytest.mark.parametrize("raw", ["1.5M", "-1", -1, "1T", "M", "", True, "12 bytes", None])
def test_byte_size_refuses(raw):
    assert "size in bytes" in _refuses(c.byte_size(0), raw)


def test_byte_size_minimum():
    assert c.byte_size(16)("16") == 16
    assert ">= 16" in _refuses(c.byte_size(16), "15")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (3, 3.0),
        (1.5, 1.5),
        ("1.5", 1.5),
        (".5", 0.5),
        ("30s", 30.0),
        ("500ms", 0.5),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("0", 0.0),
    ],
)
def test_seconds_accepts(raw, expected):
    assert c.seconds()(raw) == pytest.approx(expected)
    assert isinstance(c.seconds()(raw), float)


@pytest.mark.parametrize(
    "raw", ["abc", -1, "-1", "inf", float("inf"), float("nan"), "nan", True, "1d", "", None]
)
def test_seconds_refuses(raw):
    assert "number of seconds" in _refuses(c.seconds(), raw)


def test_seconds_without_zero():
    assert "> 0" in _refuses(c.seconds(allow_zero=False), "0")
    assert c.seconds(allow_zero=False)("0.1") == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("raw", "expected"), [("600", 0o600), ("0660", 0o660), (" 644 ", 0o644), (0o640, 0o640)]
)
def test_octal_mode_accepts(raw, expected):
    _accepts(c.to_octal_mode, raw, expected)


@pytest.mark.parametrize("raw", ["800", "9", "1000", 0o1000, True, "rw-", "", None, 6.0])
def test_octal_mode_refuses(raw):
    assert "octal" in _refuses(c.to_octal_mode, raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [("8080", 8080), (0, 0), (65535, 65535), ("http", 80), (" 81 ", 81)]
)
def test_port_accepts(raw, expected):
    _accepts(a.to_port, raw, expected)


@pytest.mark.parametrize("raw", [65536, -1, "no-such-service-xyz", "80.5", True, None, ""])
def test_port_refuses(raw):
    assert "port number" in _refuses(a.to_port, raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("127.0.0.1:8080", (("127.0.0.1", 8080),)),
        ("[::1]:9000", (("::1", 9000),)),
        ("[::1]", (("::1", 8080),)),
        ("*:8080", (("*", 8080),)),
        (":8081", (("", 8081),)),
        ("localhost", (("localhost", 8080),)),
        ("a:1  b:2\nc:3", (("a", 1), ("b", 2), ("c", 3))),
        (["a:1", "b:2 [::]:3"], (("a", 1), ("b", 2), ("::", 3))),
        ([("h", 1), ["::1", "2"]], (("h", 1), ("::1", 2))),
        ("0.0.0.0:0", (("0.0.0.0", 0),)),
        ("*:http", (("*", 80),)),
        ("h:08080", (("h", 8080),)),  # an option is read as a number; a header's port is not
    ],
)
def test_listen_accepts(raw, expected):
    _accepts(a.to_listen, raw, expected)


@pytest.mark.parametrize(
    "raw",
    [
        *("", "  ", [], "[::1", "[::1]x", "[::1]:", "[[::1]]:80", "a]:1", "host:", "host:99999"),
        *("host:-1", "h:p:q", 5, [5], [("a", 1, 2)]),
    ],
)
def test_listen_refuses(raw):
    _refuses(a.to_listen, raw)


def test_listen_asks_for_brackets_around_ipv6():
    assert "brackets" in _refuses(a.to_listen, "::1:8080")


def test_format_listen_is_the_inverse_of_to_listen():
    text = "127.0.0.1:80 [::1]:8080 *:9000"
    assert a.format_listen(a.to_listen(text)) == text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("x-forwarded-for x-forwarded-proto", {"x-forwarded-for", "x-forwarded-proto"}),
        ("X-Forwarded-For,x-forwarded-host", {"x-forwarded-for", "x-forwarded-host"}),
        ({"forwarded"}, {"forwarded"}),
        (["x-forwarded-port", "x-forwarded-by"], {"x-forwarded-port", "x-forwarded-by"}),
        ("", set()),
        (None, set()),
    ],
)
def test_proxy_headers_accepts(raw, expected):
    assert c.to_proxy_headers(raw) == frozenset(expected)


def test_proxy_headers_refuses_unknown_names_and_lists_the_known_ones():
    message = _refuses(c.to_proxy_headers, "x-forwarded-user")
    assert "x-forwarded-user" in message and "x-forwarded-for" in message


def test_proxy_headers_take_forwarded_with_x_forwarded():
    # waitress refuses the mix; bastion answers 400 when the two disagree (docs/proxies.md).
    assert c.to_proxy_headers("forwarded x-forwarded-for") == {"forwarded", "x-forwarded-for"}


@pytest.mark.parametrize("raw", [5, [5], {"x-forwarded-for": 1}.items()])
def test_proxy_headers_refuses_non_strings(raw):
    _refuses(c.to_proxy_headers, raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("app", "/app"), ("//app//", "/app"), ("/a/b/", "/a/b"), ("", ""), ("/", ""), (None, "")],
)
def test_url_prefix_normalises(raw, expected):
    _accepts(c.to_url_prefix, raw, expected)


@pytest.mark.parametrize("raw", ["a b", 5, "/a\x00"])
def test_url_prefix_refuses(raw):
    _refuses(c.to_url_prefix, raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [("My Server/1.0", "My Server/1.0"), ("", ""), (None, ""), (" x ", "x")]
)
def test_ident_accepts(raw, expected):
    _accepts(c.to_ident, raw, expected)


@pytest.mark.parametrize("raw", ["x\r\nSet-Cookie: a=b", "tab\there", 5, b"bytes"])
def test_ident_refuses_control_characters_and_non_strings(raw):
    _refuses(c.to_ident, raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("http", "http"), ("HTTPS", "https"), ("ws+unix", "ws+unix")],
)
def test_scheme_accepts(raw, expected):
    _accepts(c.to_scheme, raw, expected)


@pytest.mark.parametrize("raw", ["1http", "ht tp", "", 5])
def test_scheme_refuses(raw):
    assert "URL scheme" in _refuses(c.to_scheme, raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [("[::1]", "::1"), ("", ""), ("example.org", "example.org"), ("*", "*")]
)
def test_host_accepts(raw, expected):
    _accepts(a.to_host, raw, expected)


@pytest.mark.parametrize("raw", ["a b", "[::1", "::1]", 5, None])
def test_host_refuses(raw):
    _refuses(a.to_host, raw)


@pytest.mark.parametrize(("raw", "expected"), [("10.0.0.1", "10.0.0.1"), ("*", "*")])
def test_token_accepts(raw, expected):
    _accepts(c.to_token, raw, expected)


@pytest.mark.parametrize("raw", ["10.0.0.1 10.0.0.2", "", 5])
def test_token_refuses(raw):
    _refuses(c.to_token, raw)


def test_text_refuses_non_strings_and_control_characters():
    convert = c.text()
    assert convert("abc") == "abc"
    _refuses(convert, 5)
    _refuses(convert, "a\nb")
    _refuses(c.text(allow_empty=False), "")


def test_choice_is_case_insensitive_and_names_the_choices():
    convert = c.choice("combined", "json")
    assert convert("JSON") == "json"
    assert "'combined', 'json'" in _refuses(convert, "xml")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("IPPROTO_TCP:TCP_NODELAY:1", ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)),
        (
            "IPPROTO_TCP:TCP_NODELAY:1, SOL_SOCKET:SO_KEEPALIVE:1",
            (
                (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
                (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
            ),
        ),
        ("6:1:1", ((6, 1, 1),)),
        ([(6, 1, 1)], ((6, 1, 1),)),
        ([[1, 9, b"\x01\x00\x00\x00"]], ((1, 9, b"\x01\x00\x00\x00"),)),
        ([], ()),
    ],
)
def test_socket_options_accepts(raw, expected):
    _accepts(a.to_socket_options, raw, expected)


@pytest.mark.parametrize(
    "raw",
    [
        "NO_SUCH_LEVEL:TCP_NODELAY:1",
        "IPPROTO_TCP:TCP_NODELAY",
        "socket:x:1",
        "SOCK_STREAM_X:1:1",
        [(1, 2)],
        [(1, 2, "x")],
        [(1, True, 1)],
        5,
    ],
)
def test_socket_options_refuses(raw):
    _refuses(a.to_socket_options, raw)


def test_sockets_accepts_tcp_sockets_and_refuses_mixes():
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        assert a.to_sockets([tcp]) == (tcp,)
        assert a.to_sockets(None) == ()
        assert "mixed" in _refuses(a.to_sockets, [tcp, unix])
        _refuses(a.to_sockets, [udp])
        _refuses(a.to_sockets, [object()])
        _refuses(a.to_sockets, "abc")
        _refuses(a.to_sockets, 5)
    finally:
        for sock in (tcp, udp, unix):
            sock.close()
