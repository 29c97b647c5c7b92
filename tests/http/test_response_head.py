"""The response side (issue item 6): validation, hop-by-hop, framing, keep-alive, 100 Continue."""

from __future__ import annotations

import pytest

from bastion.http import (
    CHUNKED,
    CLOSE_DELIMITED,
    CONTINUE,
    LAST_CHUNK,
    LENGTH,
    NO_BODY,
    Caches,
    ResponseError,
    check_response,
    chunk,
    render_head,
)

DATE = "Sun, 06 Nov 1994 08:49:37 GMT"


def render(status="200 OK", headers=(), method="GET", version="HTTP/1.1", keep_alive=True, **kw):
    kw.setdefault("date", DATE)
    kw.setdefault("server", "bastion")
    head = check_response(status, list(headers))
    data, framing, keep = render_head(
        head, method, version, keep_alive, kw.pop("date"), kw.pop("server"), **kw
    )
    assert data.endswith(b"\r\n\r\n")
    lines = data[:-4].split(b"\r\n")
    return lines, framing, keep


@pytest.mark.parametrize(
    "status", ["200", "OK 200", "2000 OK", "099 Low", "600 High", "200\tOK", "200 OK\r\n", "20x OK"]
)
def test_invalid_status_is_refused(status):
    """RFC 9112 4: status-code = 3DIGIT (100-599 here), SP, reason without CR/LF."""
    with pytest.raises(ResponseError):
        check_response(status, [])


def test_status_must_be_str():
    """PEP 3333: the status is a native string."""
    with pytest.raises(ResponseError):
        check_response(b"200 OK", [])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "header",
    [
        ("X-A", "a\r\nSet-Cookie: evil=1"),
        ("X-A", "a\nb"),
        ("X-A", "a\rb"),
        ("X-A", "a\x00b"),
        ("X-A", "a\x7fb"),
        ("X-A", "caf\u00e9\u20ac"),
        ("X A", "v"),
        ("X-A\r\nX-B", "v"),
        ("X:A", "v"),
        ("", "v"),
        ("X-\u00e9", "v"),
        (b"X-A", "v"),
        ("X-A", b"v"),
        ("X-A", 1),
    ],
)
def test_unsafe_headers_are_refused(header):
    """Issue 6 / RFC 9112 4, 5: names are tokens; values have no CR, LF, NUL: no splitting."""
    with pytest.raises(ResponseError):
        check_response("200 OK", [header])


@pytest.mark.parametrize("shape", [["X-A", "v"], ("X-A",), ("X-A", "v", "w")])
def test_header_must_be_a_pair(shape):
    """PEP 3333: response_headers is a list of (header_name, header_value) tuples."""
    with pytest.raises(ResponseError):
        check_response("200 OK", [shape])


def test_latin1_and_htab_values_pass():
    """RFC 9110 5.5: obs-text and HTAB are valid in field values."""
    lines, _, _ = render(headers=[("X-A", "caf\u00e9\tb")])
    assert b"X-A: caf\xe9\tb" in lines


@pytest.mark.parametrize(
    "name",
    [
        "Keep-Alive",
        "Transfer-Encoding",
        "Upgrade",
        "TE",
        "Trailers",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "proxy-connection",
    ],
)
def test_hop_by_hop_headers_are_refused(name):
    """PEP 3333 "Other HTTP Features": apps must not send hop-by-hop headers (RFC 2616
    13.5.1), the same set waitress refuses."""
    with pytest.raises(ResponseError):
        check_response("200 OK", [(name, "x")])


def test_connection_close_from_app_is_honoured_and_rewritten():
    """Connection from the app is not passed through; its "close" closes the connection."""
    lines, framing, keep = render(headers=[("Connection", "Close"), ("Content-Length", "0")])
    assert keep is False and framing == LENGTH
    assert [line for line in lines if line.lower().startswith(b"connection")] == [
        b"Connection: close"
    ]


def test_other_connection_options_from_app_are_dropped():
    """Connection: keep-alive (or anything but close) from the app changes nothing."""
    lines, _, keep = render(headers=[("Connection", "keep-alive"), ("X-A", "1")])
    assert keep is True
    assert not any(line.lower().startswith(b"connection") for line in lines)
    assert b"X-A: 1" in lines


def test_app_headers_kept_in_order():
    """Headers go out in the order the app gave them, names as given."""
    lines, _, _ = render(headers=[("X-B", "2"), ("set-cookie", "a=1"), ("Set-Cookie", "b=2")])
    assert lines[0] == b"HTTP/1.1 200 OK"
    assert (
        lines.index(b"X-B: 2") < lines.index(b"set-cookie: a=1") < lines.index(b"Set-Cookie: b=2")
    )


def test_content_length_from_app_means_length_framing():
    """RFC 9112 6.3: Content-Length given: that is the framing."""
    lines, framing, keep = render(headers=[("Content-Length", "5")])
    assert framing == LENGTH and keep is True
    assert b"Content-Length: 5" in lines
    assert not any(b"Transfer-Encoding" in line for line in lines)


@pytest.mark.parametrize("value", ["-1", "1.0", "0x5", " 5", "5, 5", ""])
def test_invalid_content_length_from_app_is_refused(value):
    """The app's Content-Length must be 1*DIGIT: it decides the framing."""
    with pytest.raises(ResponseError):
        check_response("200 OK", [("Content-Length", value)])


def test_two_content_lengths_from_app_are_refused():
    """Two Content-Length headers would give the client the choice: refused."""
    with pytest.raises(ResponseError):
        check_response("200 OK", [("Content-Length", "1"), ("content-length", "1")])


def test_server_computed_length_used_when_app_gave_none():
    """A length the server knows (a single-item body) becomes Content-Length."""
    lines, framing, _ = render(content_length=12)
    assert framing == LENGTH and b"Content-Length: 12" in lines


def test_chunked_for_http11_without_length():
    """No length known, HTTP/1.1: chunked."""
    lines, framing, keep = render()
    assert framing == CHUNKED and keep is True
    assert b"Transfer-Encoding: chunked" in lines


def test_close_delimited_for_http10_without_length():
    """No length known, HTTP/1.0: the body ends when the connection closes."""
    lines, framing, keep = render(version="HTTP/1.0", keep_alive=True)
    assert framing == CLOSE_DELIMITED and keep is False
    assert b"Connection: close" in lines
    assert not any(b"Transfer-Encoding" in line for line in lines)


@pytest.mark.parametrize(
    ("status", "method"),
    [
        ("204 No Content", "GET"),
        ("304 Not Modified", "GET"),
        ("200 OK", "HEAD"),
    ],
)
def test_no_body_statuses_and_head(status, method):
    """RFC 9110 6.4.1 / 9112 6.3: HEAD, 204 and 304 have no body; no chunked framing."""
    lines, framing, keep = render(status=status, method=method)
    assert framing == NO_BODY and keep is True
    assert not any(b"Transfer-Encoding" in line for line in lines)


@pytest.mark.parametrize(
    "status", ["100 Continue", "101 Switching Protocols", "103 Early Hints", "199 Odd"]
)
def test_informational_status_from_the_app_is_refused(status):
    """An interim status sent as the final response would desynchronise the connection
    (101 hands it to another protocol, 100 promises a final response still to come)."""
    with pytest.raises(ResponseError, match="1xx"):
        check_response(status, [("Content-Length", "0")])


def test_no_content_length_in_204():
    """RFC 9110 8.6: a server MUST NOT send Content-Length in 204."""
    lines, _, _ = render(status="204 No Content", headers=[("Content-Length", "0")])
    assert not any(line.lower().startswith(b"content-length") for line in lines)


def test_head_keeps_app_length_and_may_add_computed_one():
    """RFC 9110 9.3.2: HEAD may carry the Content-Length the GET would have."""
    lines, _, _ = render(method="HEAD", headers=[("Content-Length", "42")])
    assert b"Content-Length: 42" in lines
    lines, _, _ = render(method="HEAD", content_length=7)
    assert b"Content-Length: 7" in lines


def test_304_keeps_app_length():
    """RFC 9110 8.6: a 304 may carry the Content-Length of the selected representation."""
    lines, framing, _ = render(status="304 Not Modified", headers=[("Content-Length", "42")])
    assert framing == NO_BODY and b"Content-Length: 42" in lines


@pytest.mark.parametrize(
    ("version", "keep_alive", "expected_keep", "connection"),
    [
        ("HTTP/1.1", True, True, None),
        ("HTTP/1.1", False, False, b"Connection: close"),
        ("HTTP/1.0", True, True, b"Connection: keep-alive"),
        ("HTTP/1.0", False, False, b"Connection: close"),
    ],
)
def test_keep_alive_header(version, keep_alive, expected_keep, connection):
    """RFC 9112 9.3 / 9.6: 1.1 persists silently; 1.0 keep-alive is announced; close is said."""
    lines, _, keep = render(
        headers=[("Content-Length", "0")], version=version, keep_alive=keep_alive
    )
    assert keep is expected_keep
    found = [line for line in lines if line.startswith(b"Connection")]
    assert found == ([] if connection is None else [connection])


def test_date_and_server_added_once():
    """Date and a configurable Server are added unless the app set its own."""
    lines, _, _ = render()
    assert b"Date: " + DATE.encode() in lines and b"Server: bastion" in lines
    lines, _, _ = render(headers=[("date", "x"), ("SERVER", "app")])
    assert [line for line in lines if line.lower().startswith((b"date", b"server"))] == [
        b"date: x",
        b"SERVER: app",
    ]


def test_server_and_date_omittable():
    """Server (and Date) are left out when None."""
    lines, _, _ = render(server=None, date=None)
    assert not any(line.startswith((b"Server", b"Date")) for line in lines)


def test_continue_and_chunk_bytes():
    """RFC 9110 15.2.1 interim response; RFC 9112 7.1 chunk framing and last-chunk."""
    assert CONTINUE == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert chunk(b"hello") == b"5\r\nhello\r\n"
    assert chunk(b"x" * 26) == b"1a\r\n" + b"x" * 26 + b"\r\n"
    assert LAST_CHUNK == b"0\r\n\r\n"


def test_empty_chunk_is_nothing():
    """An empty write must not become the last-chunk and end the body early."""
    assert chunk(b"") == b""


def test_check_response_leaves_app_list_untouched():
    """The app's header list is not mutated (Connection is filtered into a copy)."""
    headers = [("Connection", "close"), ("X-A", "1")]
    head = check_response("200 OK", headers)
    assert headers == [("Connection", "close"), ("X-A", "1")]
    assert list(head.headers) == [("X-A", "1")] and head.close is True


def test_a_status_and_header_list_seen_before_give_the_same_checked_head():
    """Checked heads are remembered: the same status and headers skip the checks."""
    caches = Caches()
    first = check_response("200 OK", [("X-Cached", "yes"), ("Content-Length", "3")], caches)
    again = check_response("200 OK", [("X-Cached", "yes"), ("Content-Length", "3")], caches)
    assert again is first
    assert first.headers == (("X-Cached", "yes"), ("Content-Length", "3"))
    assert first.content_length == 3
    other = check_response("200 OK", [("X-Cached", "no"), ("Content-Length", "3")], caches)
    assert other is not first
    elsewhere = check_response("200 OK", [("X-Cached", "yes"), ("Content-Length", "3")])
    assert elsewhere is not first  # without the caches, nothing is remembered


def test_unhashable_or_odd_header_lists_still_get_the_full_check():
    """A header that is a list, or headers that are not a list, are checked, not cached."""
    caches = Caches()
    with pytest.raises(ResponseError):
        check_response("200 OK", [["X-A", "1"]], caches)  # type: ignore[list-item]
    generated = (h for h in [("X-Gen", "1"), ("Content-Length", "0")])
    head = check_response("200 OK", generated, caches)  # type: ignore[arg-type]
    assert list(head.headers) == [("X-Gen", "1"), ("Content-Length", "0")]
    with pytest.raises(ResponseError):
        check_response("200 OK", [("X-Bad", "a\r\nb")], caches)
    with pytest.raises(ResponseError):
        check_response("200 OK", [("X-Bad", "a\r\nb")], caches)  # refused again, never cached


@pytest.mark.parametrize("version", ["HTTP/1.1", "HTTP/1.0"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("keep_alive", [True, False])
@pytest.mark.parametrize("length", [None, 5])
def test_a_reused_head_renders_exactly_like_a_fresh_one(version, method, keep_alive, length):
    """The per-request renderings remembered on a reused head match a fresh rendering."""
    headers = [("X-Memo", "1")] + ([("Content-Length", str(length))] if length else [])
    caches = Caches()
    reused = check_response("200 OK", list(headers), caches)
    assert check_response("200 OK", list(headers), caches) is reused
    assert reused.rendered is not None
    fresh = check_response("200 OK", [*headers, ("X-Uncached", "a")], caches)
    fresh.headers = reused.headers
    fresh.lines = fresh.rendered = None
    for date in ("Sun, 06 Nov 1994 08:49:37 GMT", "Mon, 07 Nov 1994 08:49:37 GMT"):
        for computed in (None, 7):
            for _ in range(2):  # the second time comes from the memo
                got = render_head(reused, method, version, keep_alive, date, "bastion", computed)
                want = render_head(fresh, method, version, keep_alive, date, "bastion", computed)
                assert got == want
                assert date.encode() in got[0]
