"""``wsgi.file_wrapper`` over real sockets: real files (sendfile) and file-like objects."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

SIZE = 3 * 1024 * 1024 + 17


@pytest.fixture(scope="module")
def payload_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("files") / "payload.bin"
    data = os.urandom(SIZE)
    path.write_bytes(data)
    return path, data


def file_app(path, *, length=None, seek=0, opened=None):
    def app(environ, start_response):
        f = open(path, "rb")  # noqa: SIM115 (the server closes it through the wrapper)
        if opened is not None:
            opened.append(f)
        f.seek(seek)
        headers = [("Content-Type", "application/octet-stream")]
        if length is not None:
            headers.append(("Content-Length", str(length)))
        start_response("200 OK", headers)
        return environ["wsgi.file_wrapper"](f, 65536)

    return app


class Tracked(io.BytesIO):
    """A BytesIO without fileno() that records close()."""

    closed_by_server = False

    def fileno(self):
        raise io.UnsupportedOperation("no fileno")

    def close(self):
        self.closed_by_server = True
        super().close()


def test_real_file_with_content_length_goes_out_whole(serve_app, payload_file):
    path, data = payload_file
    opened = []
    with serve_app(file_app(path, length=SIZE, opened=opened)) as server, server.wire() as wire:
        wire.send(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
        response = wire.read_response(timeout=20)
        assert response.header("content-length") == str(SIZE)
        assert hashlib.sha256(response.body).digest() == hashlib.sha256(data).digest()
        # Still usable afterwards: exactly SIZE body bytes were sent.
        wire.send(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
        assert len(wire.read_response(timeout=20).body) == SIZE
    assert len(opened) == 2
    assert all(f.closed for f in opened), "the server must close() the file wrapper"


def test_real_file_without_content_length_gets_one(serve_app, payload_file):
    path, data = payload_file
    with serve_app(file_app(path)) as server, server.wire() as wire:
        wire.send(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
        response = wire.read_response(timeout=20)
        assert response.header("content-length") == str(SIZE)
        assert response.body == data
        wire.send(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
        assert wire.read_response(timeout=20).body == data


def test_real_file_from_its_current_offset(serve_app, payload_file):
    path, data = payload_file
    with serve_app(file_app(path, seek=1000)) as server:
        response = server.request(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n", timeout=20)
    assert response.body == data[1000:]


def test_real_file_cut_to_a_smaller_content_length(serve_app, payload_file):
    path, data = payload_file
    with serve_app(file_app(path, length=5000)) as server, server.wire() as wire:
        wire.send(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
        response = wire.read_response()
        assert response.body == data[:5000]
        wire.send(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        assert wire.read_response(timeout=20).body[:5000] == data[:5000]


def test_real_file_to_http10_client(serve_app, payload_file):
    path, data = payload_file
    with serve_app(file_app(path)) as server, server.wire() as wire:
        wire.send(b"GET /f HTTP/1.0\r\n\r\n")
        response = wire.read_response(timeout=20)
        assert response.body == data
        assert wire.closed_by_server()


def test_head_with_a_file_sends_no_body(serve_app, payload_file):
    path, _ = payload_file
    with serve_app(file_app(path, length=SIZE)) as server, server.wire() as wire:
        wire.send(b"HEAD /f HTTP/1.1\r\nHost: x\r\n\r\n")
        head = wire.read_response("HEAD")
        assert head.header("content-length") == str(SIZE)
        wire.send(b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n")
        follow = wire.read_response(timeout=20)
        assert follow.status == 200, "bytes of the HEAD body leaked into the stream"


@pytest.mark.parametrize("with_length", [True, False])
def test_file_like_object_without_fileno(serve_app, with_length):
    data = os.urandom(200_000)
    objects = []

    def app(environ, start_response):
        stream = Tracked(data)
        objects.append(stream)
        headers = [("Content-Length", str(len(data)))] if with_length else []
        start_response("200 OK", headers)
        return environ["wsgi.file_wrapper"](stream, 8192)

    with serve_app(app) as server, server.wire() as wire:
        wire.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        response = wire.read_response()
        assert response.body == data
        if with_length:
            assert response.header("content-length") == str(len(data))
        else:
            assert response.header("transfer-encoding") == "chunked"
        wire.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert wire.read_response().body == data
    assert [o.closed_by_server for o in objects] == [True, True]
