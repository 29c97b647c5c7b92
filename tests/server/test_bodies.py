"""Large request and response bodies, compared by sha256; request bodies spilling to disk."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest
from bastion_testing import read_digest

from bastion.wsgi.input import FileInput

MIB = 1024 * 1024
OVERFLOW = 64 * 1024


def digest_app(environ, start_response):
    """Hash the body read in pieces; say whether wsgi.input reads a (spilled) file."""
    stream = environ["wsgi.input"]
    digest, total = read_digest(stream, 65536)
    on_disk = isinstance(stream, FileInput)
    body = f"{digest} {total} {'disk' if on_disk else 'memory'}".encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def pattern(size: int) -> bytes:
    """Deterministic, non-repeating-looking bytes (cheap to regenerate in the app)."""
    block = hashlib.sha256(b"bastion").digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def download_app(size: int, with_length: bool):
    data = pattern(size)

    def app(environ, start_response):
        headers = [("Content-Type", "application/octet-stream")]
        if with_length:
            headers.append(("Content-Length", str(size)))
        start_response("200 OK", headers)
        return (data[i : i + 65536] for i in range(0, size, 65536))

    return app


def post(wire, data: bytes, chunked: bool = False) -> None:
    if chunked:
        head = b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        body = b"".join(
            b"%x\r\n%s\r\n" % (len(data[i : i + 100_000]), data[i : i + 100_000])
            for i in range(0, len(data), 100_000)
        )
        wire.send(head + body + b"0\r\n\r\n")
    else:
        wire.send(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(data))
        wire.send(data)


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_large_upload_spills_to_disk_and_arrives_intact(serve_app, chunked):
    data = os.urandom(5 * MIB + 3)
    with serve_app(digest_app, inbuf_overflow=OVERFLOW) as server, server.wire(20) as wire:
        post(wire, data, chunked)
        response = wire.read_response(timeout=20)
    digest, total, where = response.body.decode().split()
    assert digest == hashlib.sha256(data).hexdigest()
    assert int(total) == len(data)
    assert where == "disk"


def test_small_upload_stays_in_memory(serve_app):
    data = os.urandom(OVERFLOW - 1)
    with serve_app(digest_app, inbuf_overflow=OVERFLOW) as server, server.wire() as wire:
        post(wire, data)
        digest, total, where = wire.read_response().body.decode().split()
    assert digest == hashlib.sha256(data).hexdigest()
    assert int(total) == len(data)
    assert where == "memory"


def test_spilled_uploads_back_to_back_on_one_connection(serve_app):
    bodies = [os.urandom(MIB + i) for i in range(3)]
    with serve_app(digest_app, inbuf_overflow=OVERFLOW) as server, server.wire(20) as wire:
        for data in bodies:
            post(wire, data)
            digest, total, _ = wire.read_response(timeout=20).body.decode().split()
            assert digest == hashlib.sha256(data).hexdigest()
            assert int(total) == len(data)


@pytest.mark.parametrize("with_length", [True, False], ids=["length", "chunked"])
def test_large_download_arrives_intact(serve_app, with_length):
    size = 8 * MIB + 5
    with serve_app(download_app(size, with_length)) as server, server.wire(20) as wire:
        wire.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        response = wire.read_response(timeout=20)
        assert len(response.body) == size
        assert hashlib.sha256(response.body).digest() == hashlib.sha256(pattern(size)).digest()
        wire.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert len(wire.read_response(timeout=20).body) == size


def test_large_close_delimited_download_to_http10(serve_app):
    size = 4 * MIB
    with serve_app(download_app(size, False)) as server, server.wire(20) as wire:
        wire.send(b"GET / HTTP/1.0\r\n\r\n")
        response = wire.read_response(timeout=20)
    assert response.body == pattern(size)


def test_large_echo_both_ways(serve_app):
    data = os.urandom(4 * MIB)

    def echo(environ, start_response):
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    with serve_app(echo, inbuf_overflow=OVERFLOW) as server, server.wire(20) as wire:
        post(wire, data)
        response = wire.read_response(timeout=20)
    assert hashlib.sha256(response.body).digest() == hashlib.sha256(data).digest()


def test_a_reused_spill_file_shows_only_the_current_body(serve_app):
    # One worker thread: the second body overwrites the file the first one spilled to.
    kept = []

    def echo(environ, start_response):
        stream = environ["wsgi.input"]
        kept.append(stream)
        body = stream.read()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    first, second = os.urandom(3 * OVERFLOW), os.urandom(OVERFLOW + 1)
    with serve_app(echo, threads=1, inbuf_overflow=OVERFLOW) as server:
        for data in (first, second):
            with server.wire(20) as wire:
                post(wire, data)
                assert wire.read_response(timeout=20).body == data
    assert kept[0] is not kept[1]
    # An input kept past its request reads nothing, never a later request's bytes.
    assert kept[0].read() == b""


def test_concurrent_spilled_uploads_each_read_their_own_body(serve_app):
    # Many bodies spill at once and their files go round the pool: none may show
    # another's bytes, whatever order the uploads interleave and finish in.
    clients, rounds = 8, 3
    bodies = [
        [os.urandom(3 * OVERFLOW + 4099 * i + r) for r in range(rounds)] for i in range(clients)
    ]
    failures: list[str] = []

    def client(index: int, server) -> None:
        with server.wire(20) as wire:
            for data in bodies[index]:
                post(wire, data)
                digest, total, where = wire.read_response(timeout=20).body.decode().split()
                if (digest, int(total), where) != (
                    hashlib.sha256(data).hexdigest(),
                    len(data),
                    "disk",
                ):
                    failures.append(f"client {index}: got {total} bytes, {where}")

    with serve_app(digest_app, threads=3, inbuf_overflow=OVERFLOW) as server:
        threads = [threading.Thread(target=client, args=(i, server)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads)
        kept = len(server.server.spill_files)
    assert failures == []
    assert 1 <= kept <= clients  # files came back to the pool for reuse
