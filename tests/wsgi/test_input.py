"""wsgi.input objects: PEP 3333 semantics of EMPTY_INPUT, body_input and FileInput."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile

import pytest
from bastion_testing import read_digest

from bastion.wsgi.input import EMPTY_INPUT, ClientDisconnected, FileInput, body_input

_open_files: list = []


@pytest.fixture(autouse=True)
def _close_files():
    yield
    while _open_files:
        _open_files.pop().close()


def spilled_file(data: bytes, position: int | None = None):
    """A temporary file holding ``data`` (closed after the test), like a spilled body."""
    f = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _close_files)
    _open_files.append(f)
    f.write(data)
    if position is not None:
        f.seek(position)
    return f


def all_inputs(data: bytes):
    """Every kind of input holding ``data``, each fresh."""
    return [
        body_input(data),
        FileInput(spilled_file(data), len(data)),
        # A reused spill file holding an older, longer body after this one.
        FileInput(spilled_file(data + b"\nSTALE older body\n"), len(data)),
        # Part of the body in memory, the rest in the file: split inside a line,
        # and right after a newline.
        FileInput(spilled_file(data[7:] + b"STALE"), len(data) - 7, head=data[:7]),
        FileInput(spilled_file(data[11:] + b"STALE"), len(data) - 11, head=data[:11]),
    ]


INPUT_KINDS = len(all_inputs(b""))
BODY = b"first line\nsecond\n\nlast without newline"


# -- EMPTY_INPUT ----------------------------------------------------------


def test_empty_input_reads_nothing():
    assert EMPTY_INPUT.read() == b""
    assert EMPTY_INPUT.read(10) == b""
    assert EMPTY_INPUT.read(None) == b""
    assert EMPTY_INPUT.readline() == b""
    assert EMPTY_INPUT.readline(5) == b""
    assert EMPTY_INPUT.readlines() == []
    assert EMPTY_INPUT.readlines(10) == []
    assert list(EMPTY_INPUT) == []
    assert next(iter(EMPTY_INPUT), None) is None


def test_empty_body_costs_the_shared_input():
    assert body_input(b"") is EMPTY_INPUT


# -- body_input -----------------------------------------------------------


def test_body_input_bytes_is_bytesio():
    inp = body_input(b"abc")
    assert isinstance(inp, io.BytesIO)
    assert inp.read() == b"abc"


def test_file_input_is_rewound():
    f = spilled_file(b"0123456789")  # positioned at the end after writing
    inp = FileInput(f, 10)
    assert inp.read(4) == b"0123"
    f2 = spilled_file(b"0123456789", position=7)
    assert FileInput(f2, 10).read() == b"0123456789"


def test_file_input_never_reads_past_its_length():
    f = spilled_file(b"body\nSTALE\n")
    assert FileInput(f, 5).read() == b"body\n"
    assert FileInput(f, 5).read(100) == b"body\n"
    assert FileInput(f, 3).readline() == b"bod"
    assert FileInput(f, 5).readlines() == [b"body\n"]
    assert list(FileInput(f, 7)) == [b"body\n", b"ST"]
    inp = FileInput(f, 5)
    assert inp.read(5) == b"body\n"
    assert inp.read() == b""
    assert inp.readline() == b""


def test_file_input_close_releases_once_and_reads_nothing_after():
    f = spilled_file(b"0123456789")
    released = []
    inp = FileInput(f, 10, released.append)
    assert inp.read(2) == b"01"
    inp.close()
    inp.close()
    assert released == [f]
    assert not f.closed  # the release callable owns it now
    assert inp.read() == b""
    assert inp.readline() == b""
    assert list(inp) == []


def test_file_input_close_without_release_closes_the_file():
    f = spilled_file(b"abc")
    inp = FileInput(f, 3)
    inp.close()
    assert f.closed
    assert inp.read() == b""


@pytest.mark.parametrize("index", range(INPUT_KINDS))
def test_read_sizes(index):
    inp = all_inputs(BODY)[index]
    assert inp.read(0) == b""
    assert inp.read(5) == b"first"
    assert inp.read(7) == b" line\ns"
    assert inp.read(None) == BODY[12:]
    assert inp.read() == b""
    assert inp.read(3) == b""


@pytest.mark.parametrize("index", range(INPUT_KINDS))
def test_read_past_end_returns_rest_then_nothing(index):
    inp = all_inputs(BODY)[index]
    assert inp.read(len(BODY) + 100) == BODY
    assert inp.read(1) == b""
    assert inp.readline() == b""


@pytest.mark.parametrize("index", range(INPUT_KINDS))
def test_readline_without_size(index):
    inp = all_inputs(BODY)[index]
    assert inp.readline() == b"first line\n"
    assert inp.readline(None) == b"second\n"
    assert inp.readline(-1) == b"\n"
    assert inp.readline() == b"last without newline"
    assert inp.readline() == b""


@pytest.mark.parametrize("index", range(INPUT_KINDS))
def test_readline_with_size(index):
    inp = all_inputs(BODY)[index]
    assert inp.readline(0) == b""
    assert inp.readline(4) == b"firs"
    assert inp.readline(100) == b"t line\n"
    assert inp.readline(7) == b"second\n"
    assert inp.readline(1) == b"\n"
    assert inp.readline(5) == b"last "
    assert inp.readline(50) == b"without newline"
    assert inp.readline(5) == b""


@pytest.mark.parametrize("index", range(INPUT_KINDS))
def test_iteration_yields_lines(index):
    inp = all_inputs(BODY)[index]
    assert list(inp) == [b"first line\n", b"second\n", b"\n", b"last without newline"]
    assert inp.read() == b""


@pytest.mark.parametrize("index", range(INPUT_KINDS))
def test_readlines_all(index):
    inp = all_inputs(BODY)[index]
    assert inp.readlines() == BODY.splitlines(keepends=True)


@pytest.mark.parametrize("index", [1, 2, 3, 4])
def test_readlines_hint_stops_once_exceeded(index):
    # Same rule as io.IOBase.readlines (and a real temporary file): stop once the
    # lines read so far total more than hint bytes.
    inp = all_inputs(BODY)[index]
    assert inp.readlines(5) == [b"first line\n"]
    assert inp.readlines(7) == [b"second\n", b"\n"]
    assert inp.readlines(None) == [b"last without newline"]


def test_readlines_hint_nonpositive_means_all():
    inp = body_input(b"a\nb\nc")
    assert inp.readlines(0) == [b"a\n", b"b\n", b"c"]
    assert FileInput(spilled_file(b"a\nb\nc"), 5).readlines(-1) == [b"a\n", b"b\n", b"c"]


def test_client_disconnected_is_oserror():
    assert issubclass(ClientDisconnected, OSError)


# -- large bodies ---------------------------------------------------------

SIZE = 5 * 1024 * 1024


def test_large_spilled_file_body():
    data = os.urandom(SIZE)
    f = spilled_file(data + b"stale", position=123)
    inp = FileInput(f, len(data))
    assert read_digest(inp, 65536) == (hashlib.sha256(data).hexdigest(), SIZE)
    assert inp.read() == b""
