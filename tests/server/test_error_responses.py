"""The server's own error responses: right status, fixed text, never an echo of the request."""

from __future__ import annotations

import pytest

MARK = b"<script>MARK1234</script>"
REASONS = {
    400: b"Bad Request",
    413: b"Content Too Large",
    414: b"URI Too Long",
    417: b"Expectation Failed",
    431: b"Request Header Fields Too Large",
    501: b"Not Implemented",
    505: b"HTTP Version Not Supported",
}


def app(environ, start_response):
    environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


CASES = [
    (400, b"GET / HTTP/1.1\r\nHost: x\r\nX-" + MARK + b": v\r\n\r\n"),
    (400, b"GET /" + MARK + b"\x7f HTTP/1.1\r\nHost: x\r\n\r\n"),
    (400, b"GET / HTTP/1.1\r\nHost: " + MARK + b"\r\n\r\n"),
    (400, b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + MARK + b"\x00\r\n\r\n"),
    (400, b"GET / HTTP/1.1\r\nHost: x\r\n " + MARK + b"\r\n\r\n"),
    (
        400,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + MARK + b"\r\n",
    ),
    (400, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1" + MARK + b"\r\n\r\n"),
    (413, b"POST /" + MARK + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n"),
    (414, b"GET /" + MARK * 400 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
    (431, b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + MARK * 400 + b"\r\n\r\n"),
    (417, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: " + MARK + b"\r\n\r\nz"),
    (400, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: x-MARK1234\r\n\r\n"),
    (501, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: x-MARK1234, chunked\r\n\r\n"),
    (505, b"GET /" + MARK + b" HTTP/3.7\r\nHost: x\r\n\r\n"),
]


@pytest.mark.parametrize("expose_tracebacks", [False, True], ids=["plain", "expose"])
@pytest.mark.parametrize(
    ("status", "raw"), CASES, ids=[f"{s}-{i}" for i, (s, _) in enumerate(CASES)]
)
def test_error_response_is_fixed_and_echoes_nothing(serve_app, status, raw, expose_tracebacks):
    options = {
        "max_request_line": 4096,
        "max_request_header_size": 8192,
        "max_request_body_size": 1_000_000,
        "expose_tracebacks": expose_tracebacks,
    }
    with serve_app(app, **options) as server, server.wire() as wire:
        wire.send(raw)
        response = wire.read_response()
        rest = wire.read_to_close()
    assert response.status == status
    assert response.reason.encode() == REASONS[status]
    assert response.body == b"%d %s\n" % (status, REASONS[status])
    assert response.header("content-type").startswith("text/plain")
    assert response.closes
    everything = response.head + response.body + rest
    assert b"MARK1234" not in everything
    assert rest == b""
