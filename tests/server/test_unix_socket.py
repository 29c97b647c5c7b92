"""unix_socket and unix_socket_perms."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile

import pytest

from bastion.config import Config
from bastion.server import Server

GET = b"GET /u HTTP/1.1\r\nHost: localhost\r\n\r\n"


def app(environ, start_response):
    body = f"{environ['PATH_INFO']} {environ['REMOTE_ADDR']}".encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def socket_path():
    # AF_UNIX paths are limited to ~108 bytes: keep the directory short.
    directory = tempfile.mkdtemp(prefix="bst", dir="/tmp")
    try:
        yield os.path.join(directory, "s.sock")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_serves_requests_on_a_unix_socket(serve_app, socket_path):
    with serve_app(app, unix_socket=socket_path) as server:
        assert server.unix_path == socket_path
        assert stat.S_ISSOCK(os.stat(socket_path).st_mode)
        with server.wire() as wire:
            for _ in range(2):
                wire.send(GET)
                response = wire.read_response()
                assert response.status == 200
                assert response.body.startswith(b"/u ")
    assert not os.path.exists(socket_path), "the socket file is removed on stop"


@pytest.mark.parametrize("perms, mode", [("600", 0o600), ("660", 0o660), ("777", 0o777)])
def test_unix_socket_perms(serve_app, socket_path, perms, mode):
    with serve_app(app, unix_socket=socket_path, unix_socket_perms=perms):
        assert stat.S_IMODE(os.stat(socket_path).st_mode) == mode


def test_a_stale_socket_file_is_replaced(serve_app, socket_path):
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(socket_path)
    stale.close()  # leaves the file behind, as a crashed server would
    with serve_app(app, unix_socket=socket_path) as server:
        assert server.request(GET).status == 200


def test_a_regular_file_in_the_way_is_not_deleted(socket_path):
    with open(socket_path, "w") as f:
        f.write("precious")
    with pytest.raises(OSError):
        Server(app, Config.from_kwargs(unix_socket=socket_path)).open()
    with open(socket_path) as f:
        assert f.read() == "precious"


def test_a_socket_passed_in_is_not_deleted_on_stop(serve_app, socket_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(socket_path)
    sock.listen(16)
    with serve_app(app, sockets=[sock]) as server:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(5)
            client.connect(socket_path)
            client.sendall(b"GET /u HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            assert client.recv(65536).startswith(b"HTTP/1.1 200 ")
        assert server.unix_path == socket_path
    assert stat.S_ISSOCK(os.stat(socket_path).st_mode), "bastion deleted a file it did not create"


def test_a_socket_bastion_bound_is_deleted_on_stop(serve_app, socket_path):
    with serve_app(app, unix_socket=socket_path):
        assert os.path.exists(socket_path)
    assert not os.path.exists(socket_path)
