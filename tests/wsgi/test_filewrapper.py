"""wsgi.file_wrapper: block iteration, close(), and sendfile parameters."""

from __future__ import annotations

import io
import os

import pytest

from bastion.wsgi.filewrapper import FileWrapper

DATA = bytes(range(256)) * 100  # 25600 bytes


@pytest.fixture
def path(tmp_path, monkeypatch):
    p = tmp_path / "data.bin"
    p.write_bytes(DATA)
    # sendfile_params() only checks that os.sendfile exists; make the tests of the
    # parameters themselves run where it does not (Windows).
    if not hasattr(os, "sendfile"):
        monkeypatch.setattr(os, "sendfile", lambda *args: 0, raising=False)
    return p


class Pipe:
    """A file-like object with read() and close() but no fileno()."""

    def __init__(self, data: bytes) -> None:
        self.stream = io.BytesIO(data)
        self.closed = False
        self.sizes: list[int] = []

    def read(self, size: int) -> bytes:
        self.sizes.append(size)
        return self.stream.read(size)

    def close(self) -> None:
        self.closed = True


def test_iterates_in_blocks():
    pipe = Pipe(DATA)
    blocks = list(FileWrapper(pipe, 10000))
    assert [len(b) for b in blocks] == [10000, 10000, 5600]
    assert b"".join(blocks) == DATA
    assert set(pipe.sizes) == {10000}


def test_default_block_size():
    blocks = list(FileWrapper(io.BytesIO(DATA)))
    assert [len(b) for b in blocks] == [8192, 8192, 8192, 1024]


def test_empty_file_yields_nothing():
    assert list(FileWrapper(io.BytesIO(b""))) == []


def test_close_closes_filelike():
    pipe = Pipe(DATA)
    wrapper = FileWrapper(pipe)
    wrapper.close()
    assert pipe.closed


def test_close_without_filelike_close():
    class Reader:
        def read(self, size):
            return b""

    wrapper = FileWrapper(Reader())
    wrapper.close()  # must not raise
    assert list(wrapper) == []


def test_sendfile_params_regular_file(path):
    with open(path, "rb") as f:
        wrapper = FileWrapper(f)
        assert wrapper.sendfile_params() == (f.fileno(), 0, len(DATA))
        assert f.tell() == 0  # nothing consumed
        assert b"".join(wrapper) == DATA


def test_sendfile_params_after_seek(path):
    with open(path, "rb") as f:
        f.seek(1000)
        wrapper = FileWrapper(f, 4096)
        assert wrapper.sendfile_params() == (f.fileno(), 1000, len(DATA) - 1000)
        assert b"".join(wrapper) == DATA[1000:]


def test_sendfile_params_after_buffered_read(path):
    with open(path, "rb") as f:
        assert f.read(10) == DATA[:10]  # the buffer read ahead; tell() still says 10
        wrapper = FileWrapper(f)
        assert wrapper.sendfile_params() == (f.fileno(), 10, len(DATA) - 10)
        assert b"".join(wrapper) == DATA[10:]


def test_sendfile_params_past_end(path):
    with open(path, "rb") as f:
        f.seek(len(DATA) + 50)
        assert FileWrapper(f).sendfile_params() == (f.fileno(), len(DATA) + 50, 0)


def test_sendfile_params_unbuffered_file(path):
    with open(path, "rb", buffering=0) as f:
        f.seek(3)
        assert FileWrapper(f).sendfile_params() == (f.fileno(), 3, len(DATA) - 3)


def test_sendfile_params_empty_file_count_unknown(path):
    p = path.parent / "empty"
    p.write_bytes(b"")
    with open(p, "rb") as f:
        params = FileWrapper(f).sendfile_params()
        assert params == (f.fileno(), 0, None)


def test_sendfile_params_tell_fails(path):
    class NoTell:
        def __init__(self, f):
            self.f = f

        def fileno(self):
            return self.f.fileno()

        def tell(self):
            raise OSError("no tell")

        def read(self, size):
            return self.f.read(size)

    with open(path, "rb") as f:
        assert FileWrapper(NoTell(f)).sendfile_params() == (f.fileno(), 0, len(DATA))


def test_sendfile_params_bytesio(path):
    wrapper = FileWrapper(io.BytesIO(DATA))
    assert wrapper.sendfile_params() is None
    assert b"".join(wrapper) == DATA


def test_sendfile_params_without_fileno(path):
    pipe = Pipe(DATA)
    wrapper = FileWrapper(pipe)
    assert wrapper.sendfile_params() is None
    assert pipe.sizes == []  # nothing read
    assert b"".join(wrapper) == DATA


def test_sendfile_params_os_pipe(path):
    r, w = os.pipe()
    try:
        os.write(w, b"hello")
        os.close(w)
        w = -1
        with os.fdopen(r, "rb") as f:
            r = -1
            wrapper = FileWrapper(f)
            assert wrapper.sendfile_params() is None
            assert b"".join(wrapper) == b"hello"
    finally:
        for fd in (r, w):
            if fd >= 0:
                os.close(fd)


def test_sendfile_params_closed_file(path):
    f = open(path, "rb")  # noqa: SIM115
    f.close()
    assert FileWrapper(f).sendfile_params() is None


def test_sendfile_params_text_file(path):
    with open(path, encoding="latin-1") as f:
        assert FileWrapper(f).sendfile_params() is None


def test_sendfile_params_without_os_sendfile(path, monkeypatch):
    monkeypatch.delattr(os, "sendfile", raising=False)
    with open(path, "rb") as f:
        wrapper = FileWrapper(f)
        assert wrapper.sendfile_params() is None
        assert b"".join(wrapper) == DATA
