"""Byte buffers that move to a temporary file once they grow past a limit.

* :class:`SpillBuffer` collects a request body (waitress's ``inbuf_overflow``),
  spilling to files from a :class:`SpillFiles` pool;
* :class:`OutputQueue` holds response bytes the socket would not take yet
  (waitress's ``outbuf_overflow``).

Every operation is O(1) amortised in the number of bytes it handles: no
re-joining or re-slicing of the whole content.
"""

from __future__ import annotations

import tempfile
from collections import deque
from functools import partial
from itertools import islice
from typing import BinaryIO

from ..wsgi.input import FileInput, body_input

__all__ = ["OutputQueue", "SpillBuffer", "SpillFiles"]

# OutputQueue.peek merges a head shorter than this with the chunks after it, so a
# run of small writes goes out in one send() instead of one send() each.
_COALESCE = 16384
# OutputQueue reads a spilled queue back in blocks of at least this size.
_READ_BLOCK = 65536


def _as_bytes(data: bytes | bytearray | memoryview) -> bytes | memoryview:
    """``data`` as something safe to keep: bytes, or a read-only byte view."""
    view = memoryview(data)
    if view.readonly and view.c_contiguous:
        return view.cast("B") if view.format != "B" or view.ndim != 1 else view
    return view.tobytes()


class SpillFiles:
    """Temporary files for spilled request bodies, reused instead of created each time.

    Creating, filling and deleting a temporary file costs about four times as
    much as overwriting one already allocated, so files whose content never
    exceeded ``max_size`` bytes come back here for later bodies: up to ``keep``
    of them, open and unlinked. :meth:`trim` closes those no body needed since
    the previous trim, so a burst of uploads leaves nothing behind for long.
    A reused file may hold older bytes past the current body: readers must stop
    at the body's length (:class:`~bastion.wsgi.input.FileInput` does).
    ``give`` may be called from any thread; ``take`` and ``trim`` from one.
    """

    __slots__ = ("_files", "_unused", "closed", "keep", "max_size")

    def __init__(self, keep: int, max_size: int) -> None:
        self.keep = keep
        self.max_size = max_size
        self._files: deque[BinaryIO] = deque()  # a stack: the coldest files on the left
        self._unused = 0  # the fewest files kept since the last trim
        self.closed = False

    def __len__(self) -> int:
        return len(self._files)

    def take(self) -> BinaryIO:
        """A temporary file positioned at offset 0: a kept one if any, else a new one."""
        files = self._files
        try:
            file = files.pop()
        except IndexError:
            return tempfile.TemporaryFile()
        if len(files) < self._unused:
            self._unused = len(files)
        file.seek(0)
        return file

    def give(self, file: BinaryIO, size: int) -> None:
        """Return ``file`` after use, ``size`` being the most bytes it held this time."""
        files = self._files
        if self.closed or file.closed or size > self.max_size or len(files) >= self.keep:
            file.close()
            return
        files.append(file)

    def trim(self) -> None:
        """Close the kept files that no ``take`` needed since the previous trim."""
        files = self._files
        for _ in range(min(self._unused, len(files))):
            files.popleft().close()
        self._unused = len(files)

    def close(self) -> None:
        """Close every kept file; later ``give`` calls close theirs."""
        self.closed = True
        files = self._files
        while files:
            files.pop().close()


class SpillBuffer:
    """An append-only byte buffer keeping at most ``overflow`` bytes in memory.

    Pieces are kept in memory while they fit in ``overflow`` bytes; the first
    piece that does not fit, and every later one, goes to a temporary file from
    ``files`` (a fresh one for each buffer when not given).
    """

    __slots__ = ("_chunks", "_file", "_files", "_in_memory", "_size", "overflow")

    def __init__(self, overflow: int, files: SpillFiles | None = None) -> None:
        self.overflow = overflow
        self._files = files if files is not None else SpillFiles(keep=0, max_size=0)
        self._chunks: list[bytes] = []
        self._in_memory = 0
        self._size = 0
        self._file: BinaryIO | None = None

    def __len__(self) -> int:
        return self._size

    @property
    def spilled(self) -> bool:
        """True once part of the content lives in a temporary file."""
        return self._file is not None

    def write(self, data: bytes) -> None:
        """Append ``data``."""
        if not data:
            return
        if type(data) is not bytes:
            data = bytes(data)
        size = len(data)
        self._size += size
        file = self._file
        if file is None:
            if self._in_memory + size <= self.overflow:
                self._chunks.append(data)
                self._in_memory += size
                return
            file = self._file = self._files.take()
        file.write(data)

    def as_input(self) -> object:
        """Hand the content over as a ``wsgi.input``; the buffer is empty afterwards.

        In memory: an :class:`io.BytesIO` (or the shared empty input). Spilled:
        a :class:`~bastion.wsgi.input.FileInput` bounded to the content, whose
        ``close()`` returns the file to the pool.
        """
        chunks, file, size = self._chunks, self._file, self._size
        head = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._reset()
        if file is None:
            return body_input(head)
        in_file = size - len(head)
        return FileInput(file, in_file, partial(self._files.give, size=in_file), head)

    def close(self) -> None:
        """Drop the content; a temporary file goes back to the pool."""
        file, in_file = self._file, self._size - self._in_memory
        self._reset()
        if file is not None:
            self._files.give(file, in_file)

    def _reset(self) -> None:
        self._file = None
        self._chunks = []
        self._in_memory = 0
        self._size = 0


class OutputQueue:
    """A FIFO of bytes waiting to be sent, spilling to a temporary file when large.

    ``append(data)`` adds at the end; ``peek(max_bytes)`` returns the next bytes
    to send (at most ``max_bytes``, at least 1 unless the queue is empty) without
    removing them; ``consume(n)`` removes the first ``n`` bytes (normally after
    ``send()`` accepted ``n`` of the peeked bytes). ``len()`` is the number of
    pending bytes.

    Once more than ``overflow`` bytes are pending, everything pending moves to a
    temporary file and appends go there until it has been sent completely; the
    file is then closed and the queue is back in memory.
    """

    __slots__ = (
        "_at_end",
        "_block",
        "_boff",
        "_chunks",
        "_file",
        "_len",
        "_off",
        "_rpos",
        "_wpos",
        "overflow",
    )

    def __init__(self, overflow: int) -> None:
        self.overflow = overflow
        self._len = 0  # pending bytes, wherever they are
        # In memory: pending = self._chunks[0][self._off:] + self._chunks[1:].
        self._chunks: deque[bytes | memoryview] = deque()
        self._off = 0
        # Spilled (self._file is not None): pending = self._block[self._boff:]
        # followed by the file's bytes [self._rpos, self._wpos); _chunks is empty.
        self._file: BinaryIO | None = None
        self._block = b""
        self._boff = 0
        self._rpos = 0
        self._wpos = 0
        self._at_end = False  # the file position is at self._wpos

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    @property
    def spilled(self) -> bool:
        """True while pending bytes live in a temporary file."""
        return self._file is not None

    def append(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data`` after everything pending (bytes and read-only views are not copied)."""
        if type(data) is not bytes:
            data = _as_bytes(data)
        n = len(data)
        if not n:
            return
        self._len += n
        file = self._file
        if file is not None:
            if not self._at_end:
                file.seek(self._wpos)
                self._at_end = True
            file.write(data)
            self._wpos += n
            return
        self._chunks.append(data)
        if self._len > self.overflow:
            self._spill()

    def _spill(self) -> None:
        chunks = self._chunks
        file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _unspill/close)
        if self._off:
            file.write(chunks.popleft()[self._off :])
            self._off = 0
        file.writelines(chunks)
        chunks.clear()
        self._file = file
        self._block = b""
        self._boff = 0
        self._rpos = 0
        self._wpos = self._len
        self._at_end = True

    def _unspill(self) -> None:
        file = self._file
        self._file = None
        self._block = b""
        self._boff = self._rpos = self._wpos = 0
        self._at_end = False
        if file is not None:
            file.close()

    def peek(self, max_bytes: int) -> bytes | memoryview:
        """The next at most ``max_bytes`` pending bytes, left pending; ``b""`` if none."""
        if self._file is not None:
            return self._peek_file(max_bytes)
        chunks = self._chunks
        if not chunks:
            return b""
        head = chunks[0]
        off = self._off
        avail = len(head) - off
        if avail >= max_bytes:
            if off == 0 and avail == max_bytes:
                return head
            return memoryview(head)[off : off + max_bytes]
        if avail < _COALESCE and len(chunks) > 1:
            # Merge the head with the whole chunks after it that fit in max_bytes.
            total = avail
            count = 1
            for chunk in islice(chunks, 1, None):  # bounded: each pass adds >= 1 byte
                total += len(chunk)
                if total > max_bytes:
                    break
                count += 1
            if count > 1:
                parts = [head[off:] if off else head]
                chunks.popleft()
                for _ in range(count - 1):
                    parts.append(chunks.popleft())
                merged = b"".join(parts)
                chunks.appendleft(merged)
                self._off = 0
                return merged
        if off:
            return memoryview(head)[off:]
        return head

    def _peek_file(self, max_bytes: int) -> bytes | memoryview:
        block = self._block
        boff = self._boff
        if boff >= len(block):
            if self._rpos >= self._wpos:
                return b""
            file = self._file
            file.seek(self._rpos)  # type: ignore[union-attr]
            self._at_end = False
            block = file.read(min(self._wpos - self._rpos, max(max_bytes, _READ_BLOCK)))  # type: ignore[union-attr]
            self._rpos += len(block)
            self._block = block
            self._boff = boff = 0
        avail = len(block) - boff
        if avail > max_bytes:
            return memoryview(block)[boff : boff + max_bytes]
        if boff:
            return memoryview(block)[boff:]
        return block

    def consume(self, n: int) -> None:
        """Remove the first ``n`` pending bytes (``0 <= n <= len(self)``)."""
        if n <= 0:
            return
        if n > self._len:
            raise ValueError(f"cannot consume {n} bytes, only {self._len} pending")
        self._len -= n
        if self._file is not None:
            boff = self._boff + n
            extra = boff - len(self._block)
            if extra >= 0:
                self._block = b""
                self._boff = 0
                self._rpos += extra
            else:
                self._boff = boff
            if not self._len:
                self._unspill()
            return
        chunks = self._chunks
        off = self._off + n
        # Bounded by the number of chunks: each pass removes one.
        while chunks and off >= len(chunks[0]):
            off -= len(chunks.popleft())
        self._off = off

    def close(self) -> None:
        """Drop everything pending and close the temporary file, if any."""
        self._chunks.clear()
        self._off = 0
        self._len = 0
        self._unspill()
