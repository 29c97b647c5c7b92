"""Published request-smuggling classes: each must be refused, and nothing after it parsed.

Sources cited per test.  "Kettle 2019" is James Kettle, "HTTP Desync Attacks: Request
Smuggling Reborn", PortSwigger Research, 2019
(https://portswigger.net/research/http-desync-attacks-request-smuggling-reborn), whose
Transfer-Encoding obfuscations the PortSwigger Web Security Academy lists as TE.TE
(https://portswigger.net/web-security/request-smuggling).
"""

from __future__ import annotations

import pytest

from bastion.http import (
    CONNECTION_CLOSED,
    NEED_DATA,
    Data,
    EndOfMessage,
    ProtocolError,
    Request,
    RequestParser,
)

HOST = b"Host: example.com"
SMUGGLED = b"GET /admin HTTP/1.1\r\nHost: example.com\r\n\r\n"


def refuses_without_smuggling(data: bytes) -> int:
    """The stream must fail, and no request for /admin may come out of it, in any split."""
    statuses = set()
    for step in (None, 1, 7):
        parser = RequestParser()
        pieces = [data] if step is None else [data[i : i + step] for i in range(0, len(data), step)]
        targets: list[str] = []
        error = None
        try:
            for piece in pieces:
                parser.feed(piece)
                for _ in range(1000):
                    event = parser.next_event()
                    if type(event) is Request:
                        targets.append(event.target)
                    elif event is NEED_DATA or event is CONNECTION_CLOSED:
                        break
        except ProtocolError as caught:
            error = caught
        assert error is not None, f"accepted with step {step}"
        assert "/admin" not in targets, f"smuggled request parsed with step {step}"
        statuses.add(error.status)
        # The connection is dead: more bytes never produce events.
        parser.feed(SMUGGLED)
        with pytest.raises(ProtocolError):
            parser.next_event()
    assert len(statuses) == 1
    return statuses.pop()


def post(*fields: bytes, body: bytes) -> bytes:
    return b"\r\n".join([b"POST / HTTP/1.1", HOST, *fields]) + b"\r\n\r\n" + body


def test_cl_te():
    """CL.TE (Kettle 2019; RFC 9112 6.1): front end uses CL, back end TE. Both present: 400."""
    body = b"0\r\n\r\n" + SMUGGLED
    data = post(b"Content-Length: %d" % len(body), b"Transfer-Encoding: chunked", body=body)
    assert refuses_without_smuggling(data) == 400


def test_te_cl():
    """TE.CL (Kettle 2019; RFC 9112 6.1): front end uses TE, back end CL. Both present: 400."""
    chunk = SMUGGLED + b"x=1"
    body = b"%x\r\n" % len(chunk) + chunk + b"\r\n0\r\n\r\n"
    data = post(b"Content-Length: 4", b"Transfer-Encoding: chunked", body=body)
    assert refuses_without_smuggling(data) == 400


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ([b"Transfer-Encoding: xchunked"], 400),
        ([b"Transfer-Encoding : chunked"], 400),
        ([b"Transfer-Encoding: chunked", b"Transfer-Encoding: x"], 400),
        ([b"Transfer-Encoding: x", b"Transfer-Encoding: chunked"], 400),
        ([b" Transfer-Encoding: chunked"], 400),
        ([b"X: X\nTransfer-Encoding: chunked"], 400),
        ([b"Transfer-Encoding\n: chunked"], 400),
        ([b"Transfer-Encoding: chunked\x0b"], 400),
        ([b"Transfer-Encoding: \x0cchunked"], 400),
    ],
)
def test_te_te_obfuscations_with_content_length(fields, status):
    """TE.TE obfuscations (Kettle 2019, the Academy list; CVE-2019-16789 waitress: odd
    whitespace in TE). With a CL beside them, each is refused; none is read as CL framing."""
    body = b"0\r\n\r\n" + SMUGGLED
    data = post(b"Content-Length: %d" % len(body), *fields, body=body)
    assert refuses_without_smuggling(data) == status


def test_te_te_underscore_name_is_another_field():
    """The name "Transfer_Encoding" (Kettle 2019 variants) is a valid token for another field:
    the request is framed by its CL and the smuggled bytes stay body (environ drops the
    underscore name, so no framework can read it as Transfer-Encoding)."""
    body = b"0\r\n\r\n" + SMUGGLED
    parser = RequestParser()
    parser.feed(post(b"Content-Length: %d" % len(body), b"Transfer_Encoding: chunked", body=body))
    request = parser.next_event()
    assert type(request) is Request
    assert (request.content_length, request.chunked) == (len(body), False)
    data = parser.next_event()
    assert type(data) is Data and data.data == body
    assert type(parser.next_event()) is EndOfMessage
    assert parser.next_event() is NEED_DATA


@pytest.mark.parametrize(
    "value", [b"chunked, identity", b"identity, chunked", b"gzip", b"chunked;x=1", b'"chunked"']
)
def test_te_not_understood_never_falls_back_to_cl(value):
    """CVE-2024-6827 (gunicorn: invalid TE fell back to Content-Length, TE.CL) and
    CVE-2019-16786 (waitress: a TE other than "chunked" fell through to CL)."""
    body = b"0\r\n\r\n" + SMUGGLED
    data = post(b"Content-Length: %d" % len(body), b"Transfer-Encoding: " + value, body=body)
    assert refuses_without_smuggling(data) == 400


def test_conflicting_te_headers_without_cl():
    """CVE-2024-1135 (gunicorn treated conflicting TE headers as chunked regardless of the
    final coding): "chunked" then "gzip" makes gzip final: 400 (RFC 9112 6.3)."""
    data = post(
        b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip", body=b"0\r\n\r\n" + SMUGGLED
    )
    assert refuses_without_smuggling(data) == 400


@pytest.mark.parametrize(
    "fields",
    [
        [b"Content-Length: 0", b"Content-Length: 45"],
        [b"Content-Length: 45", b"Content-Length: 0"],
        [b"Content-Length: 0, 45"],
        [b"Content-Length: 0, 0"],
        [b"Content-Length: 0", b"Content-Length: 0"],
    ],
)
def test_duplicate_content_length(fields):
    """CL.CL (CVE-2019-16792, waitress ignored duplicate CL; RFC 9112 6.3 (5)): 400.
    Identical values too (issue 9 point 6): a peer that takes "0, 0" as invalid, or as
    another length, frames the body differently (PortSwigger's list-form desync)."""
    assert refuses_without_smuggling(post(*fields, body=SMUGGLED)) == 400


@pytest.mark.parametrize("value", [b"+0", b"0x0", b"-0", b" 0 0", b"0\x0b"])
def test_content_length_int_tricks(value):
    """CVE-2022-24761 (waitress used int(): "+10", "0x01"); CVE-2023-38697 (protocol-http1)."""
    assert refuses_without_smuggling(post(b"Content-Length: " + value, body=SMUGGLED)) == 400


@pytest.mark.parametrize("size", [b"0x0", b"+0", b"-0", b"0 ", b" 0", b"0_0", b"00000000000000000"])
def test_chunk_size_tricks(size):
    """Chunk-size parsed by int(x, 16) (CVE-2022-24761 waitress; CVE-2023-38697); over-long
    sizes that overflow fixed-width parsers (Kettle 2019, "chunk size overflow"): 400."""
    body = size + b"\r\n\r\n" + SMUGGLED
    assert refuses_without_smuggling(post(b"Transfer-Encoding: chunked", body=body)) == 400


@pytest.mark.parametrize(
    "line",
    [b"0;\n", b"0;a\nb\r\n", b"0\n", b"5;\nhello\r\n", b"0;a=b\rc\r\n", b"0;\x00\r\n"],
)
def test_chunk_line_terminator_tricks(line):
    """Bare LF/CR or NUL in chunk-size lines and extensions: "Funky chunks" (Jeppe Bonde
    Weikop, 2025: TERM.EXT / EXT.TERM), CVE-2025-22871 (Go), CVE-2025-55315 (Kestrel)."""
    body = line + b"\r\n" + SMUGGLED
    assert refuses_without_smuggling(post(b"Transfer-Encoding: chunked", body=body)) == 400


@pytest.mark.parametrize("after", [b"\n", b"\r", b"XX", b""])
def test_chunk_data_without_crlf(after):
    """Chunk data must end in CRLF (RFC 9112 7.1); parsers that skip any two bytes or a lone
    LF there disagree on where the next chunk starts ("Funky chunks", 2025)."""
    body = b"2\r\nhi" + after + b"0\r\n\r\n" + SMUGGLED
    assert refuses_without_smuggling(post(b"Transfer-Encoding: chunked", body=body)) == 400


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.1\r\nHost: example.com\nContent-Length: 45\r\n\r\n",
        b"GET / HTTP/1.1\nHost: example.com\r\nContent-Length: 45\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: example.com\r\nX: a\rContent-Length: 45\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: example.com\r\n\nContent-Length: 45\r\n\r\n",
    ],
)
def test_bare_lf_and_cr_in_head(head):
    """CVE-2019-16785 (waitress accepted bare LF as a terminator); RFC 9112 2.2 bare CR."""
    assert refuses_without_smuggling(head + SMUGGLED) == 400


@pytest.mark.parametrize(
    "field",
    [
        b"Content-Length: 4\x00",
        b"Content-Length:\x0045",
        b"X-A: a\x00b",
        b"Content\x00-Length: 45",
    ],
)
def test_nul_in_head(field):
    """NUL in a field: RFC 9110 5.5 (MUST reject or replace); C parsers stop at NUL."""
    assert refuses_without_smuggling(post(field, body=SMUGGLED)) == 400


@pytest.mark.parametrize("field", [b"Content-Length : 45", b"Transfer-Encoding\t: chunked"])
def test_whitespace_before_colon(field):
    """RFC 9112 5.1 (MUST reject with 400); Kettle 2019 "Transfer-Encoding : chunked"."""
    assert refuses_without_smuggling(post(field, body=b"0\r\n\r\n" + SMUGGLED)) == 400


@pytest.mark.parametrize(
    "fields",
    [
        [b"X-A: a", b" Content-Length: 45"],
        [b"Content-Length: 0", b"\t45"],
        [b"Transfer-Encoding: x", b" chunked"],
    ],
)
def test_obs_fold(fields):
    """obs-fold (RFC 9112 5.2): a folded CL/TE reads differently to folding and non-folding
    parsers (Kettle 2019; CVE-2019-16789 class)."""
    assert refuses_without_smuggling(post(*fields, body=b"0\r\n\r\n" + SMUGGLED)) == 400


def test_te_in_http10():
    """RFC 9112 6.1: TE in HTTP/1.0 is a framing fault (1.0 proxies frame by CL or close)."""
    data = b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED
    assert refuses_without_smuggling(data) == 400


def test_forbidden_trailer_content_length():
    """RFC 9110 6.5.1: a Content-Length in trailers must not change framing or reach the app."""
    body = b"0\r\nContent-Length: 45\r\n\r\n"
    assert refuses_without_smuggling(post(b"Transfer-Encoding: chunked", body=body)) == 400


def test_valid_pipeline_does_parse_the_second_request():
    """Control: the same bytes, correctly framed, are two requests (the harness can see one)."""
    parser = RequestParser()
    parser.feed(post(b"Content-Length: 0", body=b"") + SMUGGLED)
    targets = []
    for _ in range(10):
        event = parser.next_event()
        if type(event) is Request:
            targets.append(event.target)
        elif event is NEED_DATA:
            break
    assert targets == ["/", "/admin"]
