"""wsgi.input objects: PEP 3333 semantics of EMPTY_INPUT, body_input, FileInput and StreamInput."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile

import pytest
from bastion_testing import read_digest

from bastion.wsgi.input import EMPTY_INPUT, ClientDisconnected, FileInput, StreamInput, body_input


class Feeder:
    """A fill() callable handing out fixed pieces, then b"" (counting calls)."""

    def __init__(self, pieces, error=None):
        self.pieces = list(pieces)
        self.error = error
        self.calls = 0
        self.ended = 0

    def __call__(self) -> bytes:
        self.calls += 1
        if self.pieces:
            return self.pieces.pop(0)
        if self.error is not None:
            raise self.error
        self.ended += 1
        assert self.ended == 1, "fill() called again after it returned b''"
        return b""


def stream(pieces, error=None):
    feeder = Feeder(pieces, error)
    first = []
    inp = StreamInput(feeder, lambda: first.append(feeder.calls))
    return inp, feeder, first


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
    pieces = [data[i : i + 3] for i in range(0, len(data), 3)]
    return [
        body_input(data),
        FileInput(spilled_file(data), len(data)),
        # A reused spill file holding an older, longer body after this one.
        FileInput(spilled_file(data + b"\nSTALE older body\n"), len(data)),
        # Part of the body in memory, the rest in the file: split inside a line,
        # and right after a newline.
        FileInput(spilled_file(data[7:] + b"STALE"), len(data) - 7, head=data[:7]),
        FileInput(spilled_file(data[11:] + b"STALE"), len(data) - 11, head=data[:11]),
        StreamInput(Feeder(pieces)),
        StreamInput(Feeder([data])),
        StreamInput(Feeder([data[i : i + 1] for i in range(len(data))])),
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
    inp = StreamInput(Feeder([b"a\nb\n", b"c"]))
    assert inp.readlines(0) == [b"a\n", b"b\n", b"c"]


# -- StreamInput specifics ------------------------------------------------


def test_lines_spanning_many_fill_pieces():
    inp = StreamInput(Feeder([b"ab", b"cd", b"e\nfg", b"h", b"\n", b"i"]))
    assert inp.readline() == b"abcde\n"
    assert inp.readline() == b"fgh\n"
    assert inp.readline() == b"i"
    assert inp.readline() == b""
    assert inp.complete


def test_readline_size_limit_across_pieces():
    inp = StreamInput(Feeder([b"ab", b"cd", b"ef\n"]))
    assert inp.readline(5) == b"abcde"
    assert inp.readline(5) == b"f\n"
    assert inp.readline(5) == b""


def test_read_size_across_pieces_keeps_the_remainder():
    inp = StreamInput(Feeder([b"abc", b"defgh", b"ij"]))
    assert inp.read(4) == b"abcd"
    assert inp.read(2) == b"ef"
    assert inp.read(4) == b"ghij"
    assert inp.read(4) == b""


def test_mixed_read_and_readline():
    inp = StreamInput(Feeder([b"head", b"er\nbo", b"dy\nrest"]))
    assert inp.read(2) == b"he"
    assert inp.readline() == b"ader\n"
    assert inp.read(3) == b"bod"
    assert inp.readline() == b"y\n"
    assert inp.read() == b"rest"


def test_on_first_read_called_once_before_fill():
    inp, feeder, first = stream([b"abc", b"def"])
    assert first == []
    assert feeder.calls == 0
    assert inp.read(1) == b"a"
    assert first == [0]  # called before fill() was ever called
    assert inp.read(5) == b"bcdef"
    assert inp.read() == b""
    assert first == [0]
    assert not inp.read()
    assert first == [0]


def test_on_first_read_not_called_without_reading():
    inp, feeder, first = stream([b"abc"])
    assert inp.read(0) == b""
    assert inp.readline(0) == b""
    assert first == []
    assert feeder.calls == 0
    assert not inp.started
    assert not inp.complete


def test_on_first_read_optional():
    inp = StreamInput(Feeder([b"x"]))
    assert inp.read() == b"x"
    assert inp.started


def test_no_fill_after_end():
    inp, feeder, _ = stream([b"abc"])
    assert inp.read() == b"abc"
    calls = feeder.calls
    assert inp.complete
    assert inp.read() == b""
    assert inp.read(10) == b""
    assert inp.readline() == b""
    assert list(inp) == []
    assert feeder.calls == calls  # never blocks once the body is complete


def test_complete_only_after_end_seen():
    inp = StreamInput(Feeder([b"abc"]))
    assert inp.read(3) == b"abc"
    assert not inp.complete  # the end has not been seen yet
    assert inp.read(1) == b""
    assert inp.complete


def test_fill_error_propagates_and_sticks():
    error = ClientDisconnected("client went away")
    inp, feeder, _ = stream([b"abc"], error)
    assert inp.read(2) == b"ab"
    with pytest.raises(ClientDisconnected) as info:
        inp.read(5)
    assert info.value is error
    calls = feeder.calls
    # The bytes received before the failure are still there.
    assert inp.read(1) == b"c"
    with pytest.raises(ClientDisconnected):
        inp.readline()
    assert feeder.calls == calls  # not asked again
    assert not inp.complete


def test_read_all_error_keeps_received_bytes():
    inp = StreamInput(Feeder([b"ab", b"cd"], ClientDisconnected("gone")))
    assert inp.read(1) == b"a"
    with pytest.raises(ClientDisconnected):
        inp.read()
    assert inp.read(3) == b"bcd"
    with pytest.raises(ClientDisconnected):
        inp.read(1)


def test_client_disconnected_is_oserror():
    assert issubclass(ClientDisconnected, OSError)


def test_other_fill_errors_propagate_from_readline():
    class ProtocolError(Exception):
        pass

    inp = StreamInput(Feeder([b"no newline "], ProtocolError("bad chunk")))
    with pytest.raises(ProtocolError):
        inp.readline()
    with pytest.raises(ProtocolError):
        inp.read()


def test_on_first_read_error_propagates():
    def boom():
        raise ClientDisconnected("cannot send 100 Continue")

    feeder = Feeder([b"abc"])
    inp = StreamInput(feeder, boom)
    with pytest.raises(ClientDisconnected):
        inp.read(1)
    assert feeder.calls == 0
    with pytest.raises(ClientDisconnected):
        inp.read(1)
    assert feeder.calls == 0


# -- drain ----------------------------------------------------------------


def test_drain_without_reading_skips_on_first_read():
    inp, feeder, first = stream([b"abc", b"def"])
    assert inp.drain(100) is True
    assert first == []
    assert inp.complete
    assert feeder.ended == 1
    assert inp.read() == b""


def test_drain_limit_exceeded():
    inp, feeder, first = stream([b"abc", b"def", b"ghi"])
    assert inp.drain(5) is False
    assert feeder.calls == 2  # stopped as soon as the limit was passed
    assert not inp.complete
    assert first == []
    assert inp.read() == b""  # finished: no more fill() calls
    assert feeder.calls == 2


def test_drain_exact_limit_succeeds():
    inp = StreamInput(Feeder([b"abc", b"def"]))
    assert inp.drain(6) is True
    assert inp.complete


def test_drain_zero_limit():
    assert StreamInput(Feeder([])).drain(0) is True
    assert StreamInput(Feeder([b"x"])).drain(0) is False


def test_drain_after_partial_read_ignores_buffered_bytes():
    inp = StreamInput(Feeder([b"abcdefgh", b"ij"]))
    assert inp.read(2) == b"ab"
    assert inp.drain(2) is True  # only "ij" is newly received
    assert inp.complete
    assert inp.read() == b""


def test_drain_after_complete():
    inp = StreamInput(Feeder([b"abc"]))
    assert inp.read() == b"abc"
    assert inp.drain(0) is True


def test_drain_fill_error_returns_false():
    inp = StreamInput(Feeder([b"abc"], ClientDisconnected("gone")))
    assert inp.drain(100) is False
    assert not inp.complete
    with pytest.raises(ClientDisconnected):
        inp.read()


def test_empty_input_drain():
    assert EMPTY_INPUT.drain(0) is True


# -- large bodies ---------------------------------------------------------

SIZE = 5 * 1024 * 1024


def test_large_stream_read_all():
    data = os.urandom(SIZE)
    pieces = [data[i : i + 65536] for i in range(0, SIZE, 65536)]
    inp = StreamInput(Feeder(pieces))
    out = inp.read()
    assert len(out) == SIZE
    assert hashlib.sha256(out).digest() == hashlib.sha256(data).digest()


def test_large_stream_read_in_odd_sizes():
    data = os.urandom(SIZE)
    pieces = [data[i : i + 50000] for i in range(0, SIZE, 50000)]
    inp = StreamInput(Feeder(pieces))
    digest = hashlib.sha256()
    total = 0
    for _ in range(SIZE // 8191 + 2):
        block = inp.read(8191)
        if not block:
            break
        assert len(block) == 8191 or total + len(block) == SIZE
        digest.update(block)
        total += len(block)
    assert total == SIZE
    assert digest.digest() == hashlib.sha256(data).digest()


def test_large_stream_lines():
    line = b"x" * 1000 + b"\n"
    data = line * 5000
    pieces = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    inp = StreamInput(Feeder(pieces))
    count = 0
    for got in inp:
        assert got == line
        count += 1
    assert count == 5000


def test_large_spilled_file_body():
    data = os.urandom(SIZE)
    f = spilled_file(data + b"stale", position=123)
    inp = FileInput(f, len(data))
    assert read_digest(inp, 65536) == (hashlib.sha256(data).hexdigest(), SIZE)
    assert inp.read() == b""
