"""Header field rules: RFC 9112 section 5, RFC 9110 sections 5 and 7.2, PEP 3333 combining."""

from __future__ import annotations

import time

import pytest

from bastion.http import Caches, Limits, fields
from bastion.http.errors import BadRequest
from bastion.http.fields import SINGLETON_FIELDS, combine_fields

LINE = b"GET / HTTP/1.1"
HOST = b"Host: example.com"


def headers_of(events: list) -> dict[str, str]:
    assert events[0][0] == "request"
    return events[0][6]


def test_names_lowercased_values_stripped_of_ows(ok, msg):
    """RFC 9112 5.1: field-line = field-name ":" OWS field-value OWS; names are case-insensitive."""
    headers = headers_of(ok(msg(LINE, HOST, b"X-Thing: \t  a  b \t ", b"ACCEPT:text/html")))
    assert headers == {"host": "example.com", "x-thing": "a  b", "accept": "text/html"}


def test_empty_value_is_kept(ok, msg):
    """RFC 9110 5.5: field-value may be empty."""
    assert headers_of(ok(msg(LINE, HOST, b"X-Empty:", b"X-Blank:   ")))["x-empty"] == ""


def test_obs_text_and_htab_allowed_in_values(ok, msg):
    """RFC 9110 5.5: field-vchar includes obs-text (0x80-0xFF); HTAB is allowed between."""
    headers = headers_of(ok(msg(LINE, HOST, b"X-Latin: caf\xe9\tna\xefve")))
    assert headers["x-latin"] == "caf\xe9\tna\xefve"


@pytest.mark.parametrize(
    "name", [b"X Thing", b"X(Thing)", b"X\xe9", b"X\x00", b"[x]", b"X/Y", b"", b"X@Y"]
)
def test_name_not_a_token_is_400(bad, msg, name):
    """RFC 9110 5.1: field-name = token."""
    assert bad(msg(LINE, HOST, name + b": v")) == 400


@pytest.mark.parametrize("ctl", [b"\x00", b"\x01", b"\x08", b"\x0b", b"\x0c", b"\x1f", b"\x7f"])
def test_ctl_in_value_is_400(bad, msg, ctl):
    """RFC 9110 5.5: field values hold no CTL except HTAB (NUL included, 5.5 last paragraph)."""
    assert bad(msg(LINE, HOST, b"X-A: a" + ctl + b"b")) == 400


@pytest.mark.parametrize("line", [b"Host : example.com", b"Host\t: example.com"])
def test_whitespace_between_name_and_colon_is_400(bad, msg, line):
    """RFC 9112 5.1: a server MUST reject whitespace between field name and colon with 400."""
    assert bad(msg(LINE, line)) == 400


@pytest.mark.parametrize("fold", [b" folded", b"\tfolded"])
def test_obs_fold_is_400(bad, msg, fold):
    """RFC 9112 5.2: obs-fold outside message/http is rejected with 400 (our choice of the two)."""
    assert bad(msg(LINE, HOST, b"X-A: a", fold)) == 400


def test_whitespace_before_first_field_is_400(bad, msg):
    """RFC 9112 2.2: whitespace between the start-line and the first field: reject."""
    assert bad(msg(LINE, b" Host: example.com")) == 400


def test_line_without_colon_is_400(bad, msg):
    """RFC 9112 5: every field line is name ":" value."""
    assert bad(msg(LINE, HOST, b"NoColonHere")) == 400


@pytest.mark.parametrize(
    "raw",
    [
        b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
        b"GET / HTTP/1.1\rHost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n",
        b"GET /\r HTTP/1.1\r\nHost: a\r\n\r\n",
    ],
)
def test_bare_cr_anywhere_in_head_is_400(bad, raw):
    """RFC 9112 2.2: a bare CR must be rejected or replaced with SP; we reject."""
    assert bad(raw) == 400


@pytest.mark.parametrize(
    "raw",
    [
        b"GET / HTTP/1.1\nHost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n\n",
        b"GET / HTTP/1.1\nHost: a\n\n",
    ],
)
def test_bare_lf_as_line_terminator_is_400(bad, raw):
    """Bare-LF policy: refused everywhere (RFC 9112 2.2 allows either; CVE-2019-16785 shows why)."""
    assert bad(raw) == 400


def test_missing_host_in_http11_is_400(bad, msg):
    """RFC 9112 3.2: an HTTP/1.1 request without Host is answered 400."""
    assert bad(msg(LINE, b"Accept: */*")) == 400


def test_missing_host_in_http10_is_fine(ok, msg):
    """RFC 9112 3.2 requires Host of HTTP/1.1 clients only."""
    assert "host" not in headers_of(ok(msg(b"GET / HTTP/1.0", b"Accept: */*")))


@pytest.mark.parametrize("version", [b"HTTP/1.0", b"HTTP/1.1"])
def test_two_host_fields_are_400(bad, msg, version):
    """RFC 9112 3.2: any request with more than one Host field line is 400."""
    assert bad(msg(b"GET / " + version, HOST, b"Host: other.example")) == 400


def test_two_identical_host_fields_are_400(bad, msg):
    """RFC 9112 3.2: "more than one Host header field line", even with equal values."""
    assert bad(msg(LINE, HOST, HOST)) == 400


@pytest.mark.parametrize(
    "value", [b"a b", b"a/b", b"exa_mple.com:80:80", b"[::1", b"user@host", b"host:8o"]
)
def test_invalid_host_value_is_400(bad, msg, value):
    """RFC 9112 3.2 / RFC 9110 7.2: Host = uri-host [ ":" port ]; anything else is 400."""
    assert bad(msg(LINE, b"Host: " + value)) == 400


@pytest.mark.parametrize(
    "value",
    [b"example.com", b"example.com:8080", b"[::1]:80", b"10.0.0.1", b"", b"xn--d1a.example"],
)
def test_valid_host_values(ok, msg, value):
    """RFC 9110 7.2 / RFC 3986 3.2.2: reg-name, IPv4, IP-literal, optional port; empty allowed."""
    assert headers_of(ok(msg(LINE, b"Host: " + value)))["host"] == value.decode()


def test_two_content_type_fields_are_400(bad, msg):
    """Issue: more than one Content-Type is 400 (a singleton: RFC 9110 5.3, 8.3)."""
    assert bad(msg(LINE, HOST, b"Content-Type: text/plain", b"Content-Type: text/html")) == 400


@pytest.mark.parametrize("name", [b"Authorization", b"Proxy-Authorization"])
def test_repeated_credentials_are_400(bad, msg, name):
    """Credentials are singletons (RFC 9110 11.6.2, 11.7.2); two components could pick different."""
    assert bad(msg(LINE, HOST, name + b": Basic YTpi", name + b": Basic Yzpk")) == 400


def test_repeats_combined_with_comma_in_order(ok, msg):
    """RFC 9110 5.3: field lines with the same name combine, in order, with ", " (PEP 3333)."""
    headers = headers_of(
        ok(msg(LINE, HOST, b"Accept: text/html", b"X-A: 1", b"accept: */*", b"ACCEPT: a/b"))
    )
    assert headers["accept"] == "text/html, */*, a/b"
    assert headers["x-a"] == "1"


def test_cookie_repeats_joined_with_semicolon(ok, msg):
    """RFC 6265 5.4 / RFC 9113 8.2.3: cookie-pairs are joined with "; ", never ", "."""
    headers = headers_of(ok(msg(LINE, HOST, b"Cookie: a=1", b"Cookie: b=2; c=3")))
    assert headers["cookie"] == "a=1; b=2; c=3"


def test_combine_fields_rules_directly():
    """fields.combine_fields: the documented exceptions and nothing else."""
    singletons = {"host", "content-type", "content-length", "authorization", "proxy-authorization"}
    assert singletons <= SINGLETON_FIELDS
    assert combine_fields([("X", "1"), ("x", "2")]) == {"x": "1, 2"}
    assert combine_fields([("Cookie", "a=1"), ("cookie", "b=2")]) == {"cookie": "a=1; b=2"}


def test_too_many_fields_is_431(bad, ok, msg):
    """Issue 3: more fields than max_header_fields is 431 (RFC 6585 5); the limit itself passes."""
    limits = Limits(max_header_fields=4)
    fields = [HOST] + [b"X-%d: v" % i for i in range(3)]
    assert len(headers_of(ok(msg(LINE, *fields), limits))) == 4
    assert bad(msg(LINE, *fields, b"X-9: v"), limits) == 431


def test_repeated_fields_count_each_line(bad, msg):
    """The field count is of lines, not distinct names: repeats cannot dodge the limit."""
    limits = Limits(max_header_fields=3)
    assert bad(msg(LINE, HOST, b"X: 1", b"X: 2", b"X: 3"), limits) == 431


@pytest.mark.parametrize(
    "value",
    [
        b" " * 200_000 + b"\x01",
        b" " * 200_000 + b"\r",
        b"a " * 100_000 + b"\x00",
        b"\t a" * 60_000 + b"\x7f",
    ],
)
def test_pathological_values_fail_in_linear_time(engine, value):
    """No regex backtracking blow-up (ReDoS): OWS runs in a failing line cost linear time.

    An earlier pattern with overlapping leading and trailing OWS took ~2 minutes here.
    """
    data = b"GET / HTTP/1.1\r\nHost: a\r\nX:" + value + b"\r\n\r\n"
    start = time.perf_counter()
    _, error = engine.run([data])
    assert error is not None and error.status == 400
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    "host",
    [
        b"a" * 200_000 + b"%",
        b"a%41" * 50_000 + b"%4",
        b"[" + b":" * 200_000,
        b"a:" + b"1" * 200_000 + b"x",
    ],
)
def test_pathological_host_fails_in_linear_time(engine, host):
    """The Host grammar (an unrolled reg-name loop) rejects long near-misses quickly."""
    data = b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
    start = time.perf_counter()
    _, error = engine.run([data])
    assert error is not None and error.status == 400
    assert time.perf_counter() - start < 2.0


def test_remembered_lines_give_the_same_fields_and_never_excuse_a_different_line():
    """Validated lines are remembered; a line differing by one forbidden byte is not one."""
    caches = Caches()
    block = "GET / HTTP/1.1\r\nX-Seen:  twice \r\nHost: a\r\n\r\n"
    first = fields.parse_fields(block, caches, block.find("\r\n"))
    assert "X-Seen:  twice " in caches.header_lines
    again = fields.parse_fields(block, caches, block.find("\r\n"))
    assert again == first == {"x-seen": "twice", "host": "a"}
    for bad in ("X-Seen:  twice\x00", "X-Seen:  tw\rice ", "X-Seen :  twice "):
        evil = f"GET / HTTP/1.1\r\n{bad}\r\nHost: a\r\n\r\n"
        with pytest.raises(BadRequest):
            fields.parse_fields(evil, caches, evil.find("\r\n"))


def test_the_memory_of_lines_is_bounded_in_count_and_line_length():
    caches, bound = Caches(), Caches.HEADER_LINES
    value = "v" * (bound.entry_size // 2)
    long_line = "X-Long: " + value
    block = f"GET / HTTP/1.1\r\n{long_line}\r\n\r\n"
    assert fields.parse_fields(block, caches, block.find("\r\n")) == {"x-long": value}
    assert long_line not in caches.header_lines
    for n in range(bound.entries + 10):
        line = f"X-N: {n}"
        fields.parse_fields(f"\r\n{line}\r\n\r\n", caches)
        assert len(caches.header_lines) <= bound.entries
