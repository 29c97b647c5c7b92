"""Request-line rules: RFC 9112 section 3 (method, request-target forms, version)."""

from __future__ import annotations

import pytest

from bastion.http import Caches, Limits
from bastion.http import head as head_module
from bastion.http.errors import ProtocolError

HOST = b"Host: example.com"


def only_request(events: list) -> tuple:
    assert [event[0] for event in events] == ["request", "end"]
    return events[0]


def test_origin_form_parts(ok, msg):
    """RFC 9112 3.2.1: origin-form = absolute-path [ "?" query ]; both stay percent-encoded."""
    request = only_request(ok(msg(b"GET /a%20b/c?x=1&y=%2F HTTP/1.1", HOST)))
    _, method, target, path, query, version, headers, *_ = request
    assert (method, target, path, query, version) == (
        "GET",
        "/a%20b/c?x=1&y=%2F",
        "/a%20b/c",
        "x=1&y=%2F",
        "HTTP/1.1",
    )
    assert headers == {"host": "example.com"}


@pytest.mark.parametrize("target", [b"//double//slash", b"/a/../b/./c", b"/%2e%2e/x", b"/;p?q?r"])
def test_path_reaches_app_as_sent(ok, msg, target):
    """Issue: no collapsing of '//' and no dot-segment removal; the path is the target's."""
    request = only_request(ok(msg(b"GET " + target + b" HTTP/1.1", HOST)))
    assert request[2] == target.decode()
    assert request[3] == target.decode().partition("?")[0]


@pytest.mark.parametrize(
    "method", [b"GET", b"POST", b"PROPFIND", b"M-SEARCH", b"X!#$%&'*+-.^_`|~1", b"get"]
)
def test_method_is_any_token(ok, msg, method):
    """RFC 9110 9.1: method = token; case-sensitive, so "get" is kept as sent."""
    request = only_request(ok(msg(method + b" / HTTP/1.1", HOST)))
    assert request[1] == method.decode()


@pytest.mark.parametrize(
    "line",
    [b"G(T / HTTP/1.1", b"GE\x00T / HTTP/1.1", b"G\xc9T / HTTP/1.1", b'"GET" / HTTP/1.1'],
)
def test_method_not_a_token_is_400(bad, msg, line):
    """RFC 9110 9.1 / 5.6.2: a method outside tchar is malformed."""
    assert bad(msg(line, HOST)) == 400


@pytest.mark.parametrize(
    "line",
    [
        b"GET  / HTTP/1.1",
        b"GET / HTTP/1.1 ",
        b" GET / HTTP/1.1",
        b"GET\t/ HTTP/1.1",
        b"GET / HTTP/1.1 extra",
        b"GET /",
        b"GET",
        b"/ HTTP/1.1",
    ],
)
def test_request_line_shape_is_strict(bad, msg, line):
    """RFC 9112 3: method SP request-target SP HTTP-version, single spaces, nothing more."""
    assert bad(msg(line, HOST)) == 400


@pytest.mark.parametrize("target", [b"/caf\xc3\xa9", b"/\x80", b"/a\x7fb", b"/a\x00b", b"/\xff"])
def test_target_with_bytes_outside_visible_ascii_is_400(bad, msg, target):
    """Issue: raw bytes outside ASCII (and CTLs) in the request-target are 400."""
    assert bad(msg(b"GET " + target + b" HTTP/1.1", HOST)) == 400


@pytest.mark.parametrize("target", [b"index.html", b"a/b", b"?x=1", b"%2F"])
def test_origin_form_needs_leading_slash(bad, msg, target):
    """RFC 9112 3.2.1: absolute-path starts with "/"."""
    assert bad(msg(b"GET " + target + b" HTTP/1.1", HOST)) == 400


@pytest.mark.parametrize("target", [b"/a#frag", b"/a?b#frag", b"http://example.com/#x"])
def test_fragment_in_target_is_400(bad, msg, target):
    """RFC 9112 3.2: request-target forms carry no fragment (RFC 9110 4.2.4: not sent)."""
    assert bad(msg(b"GET " + target + b" HTTP/1.1", HOST)) == 400


def test_asterisk_form_with_options(ok, msg):
    """RFC 9112 3.2.4: asterisk-form is for OPTIONS and reaches the app like any request."""
    request = only_request(ok(msg(b"OPTIONS * HTTP/1.1", HOST)))
    assert request[1:5] == ("OPTIONS", "*", "*", "")


@pytest.mark.parametrize("method", [b"GET", b"POST", b"CONNECT"])
def test_asterisk_form_with_other_methods_is_400(bad, msg, method):
    """RFC 9112 3.2.4: asterisk-form only with OPTIONS."""
    assert bad(msg(method + b" * HTTP/1.1", HOST)) == 400


@pytest.mark.parametrize(
    "authority", [b"example.com:443", b"10.0.0.1:8080", b"[::1]:443", b"a-b.example:1"]
)
def test_authority_form_with_connect_is_501(bad, msg, authority):
    """RFC 9110 9.3.6: a 2xx to CONNECT starts a tunnel; WSGI has none, so the engine
    refuses a well-formed CONNECT with 501 and the connection closes."""
    assert bad(msg(b"CONNECT " + authority + b" HTTP/1.1", HOST)) == 501


@pytest.mark.parametrize("target", [b"/", b"example.com", b"http://example.com/", b"a@b:1"])
def test_connect_needs_authority_form(bad, msg, target):
    """RFC 9112 3.2.3: CONNECT's target is uri-host ":" port, nothing else."""
    assert bad(msg(b"CONNECT " + target + b" HTTP/1.1", HOST)) == 400


@pytest.mark.parametrize("method", [b"GET", b"OPTIONS"])
def test_authority_form_with_other_methods_is_400(bad, msg, method):
    """RFC 9112 3.2.3: authority-form only with CONNECT."""
    assert bad(msg(method + b" example.com:80 HTTP/1.1", HOST)) == 400


def test_absolute_form_authority_overrides_host(ok, msg):
    """RFC 9112 3.2.2: the target's authority replaces the Host header's value."""
    request = only_request(
        ok(msg(b"GET https://Other.example:8443/p/q?x=y HTTP/1.1", b"Host: example.com"))
    )
    target, path, query, _, headers, *rest = request[2:]
    assert target == "https://Other.example:8443/p/q?x=y"
    assert (path, query) == ("/p/q", "x=y")
    assert headers["host"] == "Other.example:8443"
    assert rest[-2] == "https"


@pytest.mark.parametrize(
    ("target", "path", "query"),
    [(b"http://example.com", "/", ""), (b"HTTP://example.com?a", "/", "a")],
)
def test_absolute_form_empty_path_is_slash(ok, msg, target, path, query):
    """RFC 9110 4.2.1 / 3986 6.2.3: an empty path in an http URI means "/"."""
    request = only_request(ok(msg(b"GET " + target + b" HTTP/1.1", HOST)))
    assert (request[3], request[4], request[-2]) == (path, query, "http")


def test_absolute_form_still_needs_host_in_http11(bad, msg):
    """RFC 9112 3.2: an HTTP/1.1 request without Host is 400, whatever the target form."""
    assert bad(msg(b"GET http://example.com/ HTTP/1.1", b"Accept: */*")) == 400


def test_absolute_form_still_needs_valid_host(bad, msg):
    """RFC 9112 3.2: a Host with an invalid value is 400 even when the target replaces it."""
    assert bad(msg(b"GET http://example.com/ HTTP/1.1", b"Host: a b")) == 400


@pytest.mark.parametrize(
    "host",
    [b"example.com:", b"example.com:0", b"example.com:080", b"example.com:65536", b"[::1]:0"],
)
def test_host_port_follows_the_one_port_rule(bad, msg, host):
    """bastion.http.authority: a port is 1-65535, no leading zeros, not empty."""
    assert bad(msg(b"GET / HTTP/1.1", b"Host: " + host)) == 400
    assert bad(msg(b"GET http://" + host + b"/ HTTP/1.1", HOST)) == 400


@pytest.mark.parametrize("authority", [b"example.com:0", b"example.com:0443", b"[::1]:65536"])
def test_connect_port_follows_the_one_port_rule(bad, msg, authority):
    assert bad(msg(b"CONNECT " + authority + b" HTTP/1.1", HOST)) == 400


@pytest.mark.parametrize(
    "target",
    [
        b"ftp://example.com/",
        b"http:///path",
        b"http://user@example.com/",
        b"http://:80/",
        b"http://example.com:8o/",
        b"mailto:x@example.com",
    ],
)
def test_bad_absolute_form_is_400(bad, msg, target):
    """RFC 9110 4.2.1 / 4.2.4: http(s) only, non-empty host, no userinfo."""
    assert bad(msg(b"GET " + target + b" HTTP/1.1", HOST)) == 400


@pytest.mark.parametrize("version", [b"HTTP/1.0", b"HTTP/1.1"])
def test_supported_versions(ok, msg, version):
    """RFC 9112 2.3: HTTP/1.0 and HTTP/1.1 are served."""
    request = only_request(ok(msg(b"GET / " + version, HOST)))
    assert request[5] == version.decode()


@pytest.mark.parametrize(
    "version", [b"HTTP/1.2", b"HTTP/1.9", b"HTTP/2.0", b"HTTP/3.0", b"HTTP/0.9"]
)
def test_other_well_formed_versions_are_505(bad, msg, version):
    """RFC 9110 15.6.6: a well-formed version the server does not support is 505."""
    assert bad(msg(b"GET / " + version, HOST)) == 505


@pytest.mark.parametrize(
    "version", [b"http/1.1", b"HTTP/1.10", b"HTTP/11", b"HTTP/1", b"HTTPS/1.1", b"HTTP/1.1\x00"]
)
def test_junk_versions_are_400(bad, msg, version):
    """RFC 9112 2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive."""
    assert bad(msg(b"GET / " + version, HOST)) == 400


def test_http2_preface_is_400(bad):
    """RFC 9113 3.4: the HTTP/2 connection preface on an HTTP/1.1 port is not a request."""
    assert bad(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") == 400


def test_http09_simple_request_is_400(bad):
    """RFC 9112 2.3 / 3: a request line without a version (HTTP/0.9) is not accepted."""
    assert bad(b"GET /\r\n\r\n") == 400


def test_empty_lines_before_request_line_are_ignored(ok, msg):
    """RFC 9112 2.2: a server SHOULD ignore at least one empty line (CRLF) before a request."""
    events = ok(b"\r\n\r\n" + msg(b"GET / HTTP/1.1", HOST))
    assert only_request(events)[2] == "/"


def test_empty_lines_before_request_line_are_bounded(bad):
    """Endless CRLFs before a request line cannot hold the connection forever."""
    from bastion.http import Limits

    assert bad(b"\r\n" * 40, Limits(max_request_line=64)) == 400


def test_bare_lf_before_request_line_is_400(bad, msg):
    """Bare-LF policy (parser module docstring): a lone LF is never a line end."""
    assert bad(b"\n" + msg(b"GET / HTTP/1.1", HOST)) == 400


def test_raw_target_kept_exactly(ok, msg):
    """Issue: the raw request-target reaches the app (REQUEST_URI / RAW_URI) unchanged."""
    target = b"/%7Euser/a%2Fb;c=d?q=%20&&x"
    assert only_request(ok(msg(b"GET " + target + b" HTTP/1.1", HOST)))[2] == target.decode()


def test_remembered_request_lines_never_excuse_a_different_line():
    """Request lines already checked are remembered; a near copy is checked on its own."""
    limits, caches = Limits(), Caches()
    head_module.parse_head("GET /remembered HTTP/1.1\r\nHost: a\r\n\r\n", limits, caches)
    assert "GET /remembered HTTP/1.1" in caches.request_lines
    other_head = "GET /remembered HTTP/1.1\r\nHost: b\r\n\r\n"  # the line from the memo
    again = head_module.parse_head(other_head, limits, caches)
    assert (again.method, again.target, again.version) == ("GET", "/remembered", "HTTP/1.1")
    near_copies = ("GET /remembered  HTTP/1.1", "GET /remem\x00bered HTTP/1.1", "GET /r HTTP/1.2")
    for bad in near_copies:
        with pytest.raises(ProtocolError):
            head_module.parse_head(bad + "\r\nHost: a\r\n\r\n", limits, caches)
