"""Chunked transfer coding both ways, close-delimited HTTP/1.0 bodies, and HEAD."""

from __future__ import annotations

import hashlib
import os
import select
import statistics
import threading
import time

from bastion_testing import read_digest


def generator_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def body():
        yield b"first,"
        yield b""  # an empty item must not end a chunked body early
        yield b"second,"
        yield b"third"

    return body()


def list_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Extra", "1")])
    return [b"hello world"]


def upload_app(environ, start_response):
    """Read the body in pieces and answer with its sha256, length and CONTENT_LENGTH."""
    digest, total = read_digest(environ["wsgi.input"], 7919)
    content_length = environ.get("CONTENT_LENGTH", "-")
    transfer_encoding = environ.get("HTTP_TRANSFER_ENCODING", "-")
    body = f"{digest} {total} {content_length} {transfer_encoding}"
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body.encode()]


def chunks_of(data: bytes, size: int) -> bytes:
    out = [
        b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size])
        for i in range(0, len(data), size)
    ]
    return b"".join(out) + b"0\r\n\r\n"


def test_generator_without_length_is_chunked_on_http11(serve_app):
    with serve_app(generator_app) as server, server.wire() as wire:
        wire.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        response = wire.read_response()
        assert response.header("transfer-encoding") == "chunked"
        assert response.header("content-length") is None
        assert response.body == b"first,second,third"
        assert response.chunk_sizes[-1] == 0
        assert 0 not in response.chunk_sizes[:-1]
        assert not response.closes
        wire.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert wire.read_response().body == b"first,second,third"


def test_generator_without_length_is_close_delimited_on_http10(serve_app):
    with serve_app(generator_app) as server, server.wire() as wire:
        wire.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        _, status, _, headers, _ = wire.read_head()
        names = {n.lower() for n, _ in headers}
        assert status == 200
        assert "transfer-encoding" not in names
        assert "content-length" not in names
        assert ("Connection", "close") in headers
        assert wire.read_to_close() == b"first,second,third"


def test_single_item_list_gets_a_content_length(serve_app):
    with serve_app(list_app) as server:
        response = server.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response.header("content-length") == "11"
    assert response.header("transfer-encoding") is None
    assert response.body == b"hello world"


def test_chunked_upload_is_read_by_the_app(serve_app):
    payload = os.urandom(300_000)
    with serve_app(upload_app) as server, server.wire() as wire:
        encoded = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        encoded += chunks_of(payload, 10_000)
        for i in range(0, len(encoded), 65536):
            wire.send(encoded[i : i + 65536])
        response = wire.read_response()
    digest, total, *_ = response.body.decode().split()
    assert digest == hashlib.sha256(payload).hexdigest()
    assert int(total) == len(payload)


def test_chunked_upload_with_extensions_and_trailers(serve_app):
    body = b'5;name=value\r\nhello\r\n1;a;b="q"\r\n \r\n5\r\nworld\r\n0\r\nX-Checksum: abc\r\n\r\n'
    with serve_app(upload_app) as server:
        response = server.request(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body
        )
    digest, total, *_ = response.body.decode().split()
    assert digest == hashlib.sha256(b"hello world").hexdigest()
    assert total == "11"


def test_chunked_upload_looks_like_a_sized_body_to_the_app(serve_app):
    # waitress (and so apps written for it, e.g. Django's LimitedStream) sees a
    # buffered chunked body as a plain one: CONTENT_LENGTH is the decoded length
    # and Transfer-Encoding is not passed on.
    with serve_app(upload_app) as server:
        response = server.request(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"6\r\nabcdef\r\n0\r\n\r\n"
        )
    _, total, content_length, transfer_encoding = response.body.decode().split()
    assert total == "6"
    assert content_length == "6"
    assert transfer_encoding == "-"


def test_head_has_the_get_headers_and_no_body(serve_app):
    with serve_app(list_app) as server, server.wire() as wire:
        wire.send(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        get = wire.read_response()
        wire.send(b"HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n")
        head = wire.read_response("HEAD")
        # The next response must start right after the HEAD response's head.
        wire.send(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        after = wire.read_response()
    assert get.body == b"hello world"
    assert head.status == get.status == 200

    def without_date(response):
        return sorted((n.lower(), v) for n, v in response.headers if n.lower() != "date")

    assert without_date(head) == without_date(get)
    assert after.body == b"hello world"


def test_head_of_a_streamed_body_sends_no_body_and_keeps_the_connection(serve_app):
    with serve_app(generator_app) as server, server.wire() as wire:
        wire.send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        head = wire.read_response("HEAD")
        assert head.status == 200
        assert head.header("content-type") == "text/plain"
        wire.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        get = wire.read_response()
        assert get.body == b"first,second,third"


def test_a_flood_of_tiny_chunks_does_not_stall_other_clients(serve_app):
    """The review's case: one connection streaming 1-byte chunks made every other client
    wait (384 ms median).  The loop now de-chunks one bounded run per round."""
    data = os.urandom(1_500_000)
    flood = b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    flood += chunks_of(data, 1)  # 9 MB on the wire
    latencies = []
    with serve_app(upload_app, threads=4) as server, server.wire(timeout=30) as wire:
        sender = threading.Thread(target=wire.sock.sendall, args=(flood,))
        sender.start()
        try:
            for _ in range(500):  # until the flood is answered
                if select.select([wire.sock], [], [], 0)[0]:
                    break
                started = time.perf_counter()
                response = server.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                latencies.append(time.perf_counter() - started)
                assert response.status == 200
        finally:
            sender.join(30)
        answer = wire.read_response(timeout=30)
    assert answer.body.endswith(f" {len(data)} {len(data)} -".encode())
    assert answer.body.startswith(hashlib.sha256(data).hexdigest().encode())
    assert len(latencies) >= 5, "the flood ended before other clients could be measured"
    assert statistics.median(latencies) < 0.06, sorted(latencies)
