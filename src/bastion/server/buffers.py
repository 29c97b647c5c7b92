"""Byte buffers that move to a temporary file once they grow past a limit.

* :class:`SpillBuffer` collects a request body (waitress's ``inbuf_overflow``);
* :class:`OutputQueue` holds response bytes the socket would not take yet
  (waitress's ``outbuf_overflow``).

Every operation is O(1) amortised in the number of bytes it handles: no
re-joining or re-slicing of the whole content.
"""

from __future__ import annotations

import tempfile
from collections import deque
from itertools import islice
from typing import BinaryIO

__all__ = ["OutputQueue", "SpillBuffer"]

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


class SpillBuffer:
    """An append-only byte buffer that moves to a temporary file past ``overflow`` bytes.

    Kept in memory (a list of pieces) while its size is at most ``overflow``;
    once it passes that, its content goes to a ``tempfile.TemporaryFile()`` and
    later writes append there.
    """

    __slots__ = ("_chunks", "_file", "_size", "overflow")

    def __init__(self, overflow: int) -> None:
        self.overflow = overflow
        self._chunks: list[bytes] = []
        self._size = 0
        self._file: BinaryIO | None = None

    def __len__(self) -> int:
        return self._size

    @property
    def spilled(self) -> bool:
        """True once the content lives in a temporary file."""
        return self._file is not None

    def write(self, data: bytes) -> None:
        """Append ``data``."""
        if not data:
            return
        if type(data) is not bytes:
            data = bytes(data)
        self._size += len(data)
        file = self._file
        if file is not None:
            file.write(data)
            return
        self._chunks.append(data)
        if self._size > self.overflow:
            file = self._file = tempfile.TemporaryFile()  # noqa: SIM115 (kept open)
            file.writelines(self._chunks)
            self._chunks = []

    def getvalue_or_file(self) -> bytes | BinaryIO:
        """The content: ``bytes`` if still in memory, else the temporary file at offset 0.

        The file stays owned by this buffer (:meth:`close` closes it), unless the
        caller takes it over and does not call :meth:`close`.
        """
        file = self._file
        if file is not None:
            file.seek(0)
            return file
        chunks = self._chunks
        if not chunks:
            return b""
        if len(chunks) > 1:
            chunks[:] = [b"".join(chunks)]
        return chunks[0]

    def close(self) -> None:
        """Drop the content and close the temporary file, if any."""
        file = self._file
        self._file = None
        self._chunks = []
        self._size = 0
        if file is not None:
            file.close()


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
