"""SpillBuffer and SpillFiles (request bodies) and OutputQueue (unsent response bytes)."""

from __future__ import annotations

import hashlib
import io
import os
import random

import pytest
from bastion_testing import read_digest

from bastion.server.buffers import OutputQueue, SpillBuffer, SpillFiles
from bastion.wsgi.input import EMPTY_INPUT, FileInput

# -- SpillBuffer ----------------------------------------------------------


def test_spill_buffer_empty():
    buf = SpillBuffer(100)
    assert len(buf) == 0
    assert buf.as_input() is EMPTY_INPUT
    buf.close()


def test_spill_buffer_in_memory_joins_once():
    buf = SpillBuffer(100)
    buf.write(b"abc")
    buf.write(b"")
    buf.write(b"def")
    assert len(buf) == 6
    assert not buf.spilled
    inp = buf.as_input()
    assert isinstance(inp, io.BytesIO)
    assert inp.read() == b"abcdef"
    assert len(buf) == 0  # handed over


def test_spill_buffer_exactly_at_overflow_stays_in_memory():
    buf = SpillBuffer(10)
    buf.write(b"0123456789")
    assert not buf.spilled
    buf.write(b"a")
    assert buf.spilled
    inp = buf.as_input()
    assert isinstance(inp, FileInput)
    assert inp.read() == b"0123456789a"
    inp.close()


def test_spill_buffer_spills_to_file_and_keeps_appending():
    buf = SpillBuffer(8)
    buf.write(b"hello ")
    buf.write(b"big ")
    assert buf.spilled
    buf.write(b"world")
    assert len(buf) == 15
    inp = buf.as_input()
    assert not buf.spilled
    assert len(buf) == 0
    assert inp.read() == b"hello big world"
    inp.close()
    buf.close()  # nothing left to close


def test_spill_buffer_accepts_bytes_like():
    buf = SpillBuffer(100)
    source = bytearray(b"abc")
    buf.write(source)
    buf.write(memoryview(b"def"))
    source[0] = ord("z")  # must not change what was written
    assert buf.as_input().read() == b"abcdef"


def test_spill_buffer_large_body_sha256():
    data = os.urandom(5 * 1024 * 1024)
    buf = SpillBuffer(512 * 1024)
    for i in range(0, len(data), 65536):
        buf.write(data[i : i + 65536])
    assert len(buf) == len(data)
    assert buf.spilled
    inp = buf.as_input()
    assert read_digest(inp, 100000) == (hashlib.sha256(data).hexdigest(), len(data))
    inp.close()


def test_spill_buffer_keeps_what_fits_in_memory_and_files_the_rest():
    files = SpillFiles(keep=1, max_size=100)
    buf = SpillBuffer(10, files)
    for piece in (b"0123", b"4567", b"89ab", b"cd"):  # the third piece would pass 10
        buf.write(piece)
    file = buf._file
    assert buf._in_memory == 8
    inp = buf.as_input()
    file.flush()
    assert os.pread(file.fileno(), 100, 0) == b"89abcd"  # only the bytes past memory
    assert inp.read(6) == b"012345"
    assert inp.read(4) == b"6789"  # across the memory/file boundary
    assert inp.read() == b"abcd"
    inp.close()
    assert len(files) == 1


def spill(files: SpillFiles, data: bytes) -> FileInput:
    buf = SpillBuffer(4, files)
    buf.write(data)
    assert buf.spilled
    return buf.as_input()


def test_spill_files_reuse_a_file_and_never_show_its_older_bytes():
    files = SpillFiles(keep=2, max_size=1000)
    first = spill(files, b"a long first body\n" * 10)
    file = first._file
    first.close()
    second = spill(files, b"short\n")
    assert second._file is file  # the same temporary file, overwritten
    assert second.read() == b"short\n"
    assert second.read() == b""
    second.close()
    assert not file.closed
    files.close()
    assert file.closed


def test_spill_files_close_files_too_big_to_keep():
    files = SpillFiles(keep=2, max_size=100)
    inp = spill(files, b"x" * 101)
    file = inp._file
    inp.close()
    assert file.closed
    assert spill(files, b"y" * 10)._file is not file


def test_spill_files_keep_a_bounded_number():
    files = SpillFiles(keep=2, max_size=100)
    inputs = [spill(files, b"body %d" % i) for i in range(3)]
    handles = [inp._file for inp in inputs]
    for inp in inputs:
        inp.close()
    assert [f.closed for f in handles] == [False, False, True]
    files.close()
    assert all(f.closed for f in handles)


def test_spill_files_after_close_close_what_comes_back():
    files = SpillFiles(keep=2, max_size=100)
    inp = spill(files, b"late request body")
    file = inp._file
    files.close()  # the server stopped while a worker still held the body
    inp.close()
    assert file.closed


def test_spill_buffer_closed_mid_body_returns_its_file():
    files = SpillFiles(keep=1, max_size=100)
    buf = SpillBuffer(4, files)
    buf.write(b"partial body")
    file = buf._file
    buf.close()  # the client went away before the end of the body
    assert not file.closed
    assert spill(files, b"next body")._file is file


# -- OutputQueue ----------------------------------------------------------


def drain(queue: OutputQueue, max_bytes: int, sizes=None) -> bytes:
    """Empty ``queue`` like a socket accepting ``sizes`` bytes per send."""
    out = []
    rng = random.Random(1)
    for _ in range(len(queue) + 1):  # every round consumes >= 1 byte
        if not queue:
            break
        chunk = queue.peek(max_bytes)
        assert 0 < len(chunk) <= max_bytes
        n = len(chunk) if sizes is None else min(len(chunk), rng.choice(sizes))
        out.append(bytes(chunk[:n]))
        queue.consume(n)
    assert len(queue) == 0
    return b"".join(out)


def test_output_queue_empty():
    q = OutputQueue(100)
    assert len(q) == 0
    assert not q
    assert q.peek(10) == b""
    q.consume(0)
    q.close()


def test_output_queue_fifo_in_memory():
    q = OutputQueue(1000)
    q.append(b"abc")
    q.append(b"")
    q.append(b"defg")
    assert len(q) == 7
    assert q
    assert bytes(q.peek(2)) == b"ab"
    q.consume(2)
    assert len(q) == 5
    assert bytes(q.peek(100)) == b"cdefg"  # small chunks coalesced into one send
    q.consume(3)
    assert bytes(q.peek(100)) == b"fg"
    q.append(b"hi")
    q.consume(2)
    assert bytes(q.peek(100)) == b"hi"
    q.consume(2)
    assert not q
    assert q.peek(5) == b""


def test_output_queue_peek_does_not_copy_big_chunk():
    data = b"x" * 100000
    q = OutputQueue(10**7)
    q.append(data)
    assert q.peek(100000) is data
    view = q.peek(1000)
    assert isinstance(view, memoryview)
    assert view.obj is data
    assert len(view) == 1000
    q.consume(500)
    view = q.peek(200000)
    assert isinstance(view, memoryview)
    assert len(view) == 99500


def test_output_queue_coalesce_respects_max_bytes():
    q = OutputQueue(10**6)
    for i in range(10):
        q.append(bytes([65 + i]) * 10)
    chunk = q.peek(35)
    assert bytes(chunk) == b"A" * 10 + b"B" * 10 + b"C" * 10
    q.consume(len(chunk))
    assert drain(q, 35) == b"".join(bytes([65 + i]) * 10 for i in range(3, 10))


def test_output_queue_consume_across_chunks():
    q = OutputQueue(1000)
    q.append(b"abc")
    q.append(b"def")
    q.append(b"ghi")
    q.consume(7)
    assert bytes(q.peek(10)) == b"hi"
    with pytest.raises(ValueError):
        q.consume(3)


def test_output_queue_accepts_views_and_copies_mutable():
    q = OutputQueue(1000)
    source = bytearray(b"abc")
    q.append(source)
    q.append(memoryview(b"defghi")[3:])
    source[0] = ord("z")
    assert drain(q, 100) == b"abcghi"


def test_output_queue_spills_and_keeps_order():
    q = OutputQueue(10)
    q.append(b"0123456")
    assert not q.spilled
    q.consume(2)
    q.append(b"789ab")  # 10 pending: still in memory
    assert not q.spilled
    q.append(b"cd")  # 12 pending: spilled
    assert q.spilled
    assert len(q) == 12
    assert bytes(q.peek(4)) == b"2345"
    q.consume(3)
    q.append(b"ef")  # appended to the file after a read
    chunk = bytes(q.peek(100))
    assert chunk
    assert b"56789abcdef".startswith(chunk)
    q.consume(5)
    q.append(b"gh")
    assert drain(q, 3) == b"abcdefgh"
    assert not q.spilled  # back in memory once everything was sent
    q.append(b"xyz")
    assert not q.spilled
    assert bytes(q.peek(10)) == b"xyz"


def test_output_queue_consume_beyond_block_in_file():
    data = os.urandom(300000)
    q = OutputQueue(0)
    q.append(data)
    assert q.spilled
    assert bytes(q.peek(3)) == data[:3]
    q.consume(200000)  # more than was peeked, and past what was read back from the file
    assert drain(q, 18000) == data[200000:]
    assert not q.spilled


def test_output_queue_large_spill_random_sends():
    data = os.urandom(5 * 1024 * 1024)
    q = OutputQueue(1024 * 1024)
    rng = random.Random(7)
    out = []
    pos = 0
    for _ in range(10**6):  # bounded; ends when everything was appended and sent
        if pos < len(data) and (rng.random() < 0.6 or not q):
            n = rng.choice([1, 100, 5000, 65536, 300000])
            q.append(data[pos : pos + n])
            pos += min(n, len(data) - pos)
            assert len(q) <= len(data)
        elif q:
            chunk = q.peek(rng.choice([1000, 18000, 262144]))
            n = min(len(chunk), rng.choice([1, 7000, 18000, 262144]))
            out.append(bytes(chunk[:n]))
            q.consume(n)
        else:
            break
    assert pos == len(data)
    result = b"".join(out)
    assert len(result) == len(data)
    assert hashlib.sha256(result).digest() == hashlib.sha256(data).digest()
    assert not q
    q.close()


def test_output_queue_spill_then_drain_sha256():
    data = os.urandom(5 * 1024 * 1024)
    q = OutputQueue(256 * 1024)
    for i in range(0, len(data), 40000):
        q.append(data[i : i + 40000])
    assert q.spilled
    assert len(q) == len(data)
    result = drain(q, 18000, sizes=[18000, 9000, 1])
    assert hashlib.sha256(result).digest() == hashlib.sha256(data).digest()


def test_output_queue_close_drops_everything():
    q = OutputQueue(4)
    q.append(b"abcdefgh")
    assert q.spilled
    q.close()
    assert len(q) == 0
    assert not q.spilled
    assert q.peek(10) == b""


def test_spill_files_trim_closes_only_files_no_body_needed():
    files = SpillFiles(keep=8, max_size=100)
    inputs = [spill(files, b"body %d" % i) for i in range(3)]
    for inp in inputs:
        inp.close()
    files.trim()  # the first trim after start: all three were taken since
    assert len(files) == 3
    busy = spill(files, b"one body while trimming")  # one file in use
    files.trim()  # two stayed unused all along: closed
    assert len(files) == 0
    busy.close()
    files.trim()  # the one in use came back and was not needed again yet
    assert len(files) == 1
    files.trim()
    assert len(files) == 0
