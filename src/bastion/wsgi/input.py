"""``wsgi.input`` objects (PEP 3333, "Input and Error Streams").

Four kinds, all ending exactly at the end of the request body (so the server
sets ``wsgi.input_terminated``) and never blocking once the body is complete:

* :data:`EMPTY_INPUT` -- a shared, stateless input for requests without a body;
* :func:`body_input` -- for a body received in full in memory;
* :class:`FileInput` -- for a body received in full into a temporary file;
* :class:`StreamInput` -- for a body still arriving while the application reads
  it (``Expect: 100-continue`` or bodies too large to buffer first).

All of them accept ``None`` as a size meaning "no limit" (-1), return ``b""`` at
the end of the body, and return fewer bytes than asked from ``read(size)`` only
at the end of the body.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

__all__ = ["EMPTY_INPUT", "ClientDisconnected", "FileInput", "StreamInput", "body_input"]


class ClientDisconnected(OSError):
    """The client went away (or timed out) before sending the whole request body.

    Raised from :class:`StreamInput` reads when the server's ``fill`` callable
    raises it; the application sees it as an ``OSError`` from ``wsgi.input``.
    """


class _EmptyInput:
    """The input of a request without a body: every read is at the end.

    Stateless, so one instance (:data:`EMPTY_INPUT`) serves every such request.
    """

    __slots__ = ()

    complete = True
    started = True

    def read(self, size: int | None = -1) -> bytes:
        return b""

    def readline(self, size: int | None = -1) -> bytes:
        return b""

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        return []

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        raise StopIteration

    def drain(self, limit: int) -> bool:
        return True

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return "EMPTY_INPUT"


EMPTY_INPUT = _EmptyInput()
"""The shared ``wsgi.input`` for requests without a body."""


class _Lines:
    """``readlines`` and line iteration on top of a ``readline(size)`` method."""

    __slots__ = ()

    def readline(self, size: int | None = -1) -> bytes:  # pragma: no cover (abstract)
        raise NotImplementedError

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Read lines until the end, or until their total size exceeds ``hint`` (if > 0)."""
        lines = []
        total = 0
        readline = self.readline
        if hint is None or hint <= 0:
            hint = -1
        while True:
            line = readline()
            if not line:
                break
            lines.append(line)
            total += len(line)
            if 0 <= hint < total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if line:
            return line
        raise StopIteration


def body_input(body: bytes) -> object:
    """Return a ``wsgi.input`` for a body received in full in memory.

    An :class:`io.BytesIO`, or :data:`EMPTY_INPUT` when ``body`` is empty.
    """
    return io.BytesIO(body) if body else EMPTY_INPUT


class FileInput(_Lines):
    """A ``wsgi.input`` over a spilled body: ``head`` bytes, then ``length`` bytes of a file.

    Reads never go past ``length`` bytes of the file, whatever it holds after
    them (a reused temporary file may hold an earlier, longer body).
    ``close()`` hands the file to ``release`` (or closes it); from then on every
    read returns ``b""``, so an input kept past its request can never see a
    later request's bytes.
    """

    __slots__ = ("_file", "_left", "_memory", "_release")

    def __init__(
        self,
        file: BinaryIO,
        length: int,
        release: Callable[[BinaryIO], None] | None = None,
        head: bytes = b"",
    ) -> None:
        file.seek(0)
        self._file: BinaryIO | None = file
        self._left = length
        self._release = release
        self._memory = io.BytesIO(head) if head else None

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = -1
        memory = self._memory
        if memory is None:
            return self._from_file(size)
        data = memory.read(size)
        if len(data) == size:
            return data
        self._memory = None  # the head is used up
        rest = self._from_file(size - len(data) if size > 0 else -1)
        return data + rest if rest else data

    def readline(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = -1
        memory = self._memory
        if memory is None:
            return self._from_file(size, line=True)
        line = memory.readline(size)
        if line[-1:] == b"\n" or len(line) == size:
            return line
        self._memory = None  # the head is used up
        rest = self._from_file(size - len(line) if size > 0 else -1, line=True)
        return line + rest if rest else line

    def _from_file(self, size: int, line: bool = False) -> bytes:
        """Up to ``size`` (-1: all) of the file's remaining body bytes, or one line of them."""
        left = self._left
        if size < 0 or size > left:
            size = left
        if not size:
            return b""
        file: BinaryIO = self._file  # type: ignore[assignment]
        data = file.readline(size) if line else file.read(size)
        self._left = left - len(data)
        return data

    def close(self) -> None:
        """Give up the file; later reads return ``b""``."""
        file = self._file
        if file is None:
            return
        self._file = None
        self._memory = None
        self._left = 0
        if self._release is None:
            file.close()
        else:
            self._release(file)


class StreamInput(_Lines):
    """A ``wsgi.input`` reading a body as it arrives from the client.

    ``fill()`` blocks until it returns the next piece of de-framed body bytes,
    returns ``b""`` once the body is complete (it is then never called again),
    or raises (e.g. :class:`ClientDisconnected` or a protocol error) if the body
    cannot be completed; the exception propagates to the reader, and every
    later read that needs more bytes raises it again without calling ``fill``.
    ``fill`` must return ``bytes``.

    ``on_first_read`` (where the server sends ``100 Continue``) is called once,
    just before the first call to ``fill``; if the application never needs body
    bytes, it is never called. :meth:`drain` does not call it.
    """

    __slots__ = (
        "_buf",
        "_complete",
        "_done",
        "_error",
        "_fill",
        "_on_first_read",
        "_pos",
        "_started",
    )

    def __init__(
        self, fill: Callable[[], bytes], on_first_read: Callable[[], None] | None = None
    ) -> None:
        self._fill = fill
        self._on_first_read = on_first_read
        self._buf = b""  # received, not yet read: self._buf[self._pos:]
        self._pos = 0
        self._started = False  # fill() (or on_first_read) has been called
        self._done = False  # fill() is not to be called again
        self._complete = False  # fill() returned b"": the whole body was received
        self._error: Exception | None = None

    @property
    def complete(self) -> bool:
        """True once the whole body has been received (``fill`` returned ``b""``).

        The connection is then positioned after the body, whether or not the
        application read all of it. An application that read exactly
        Content-Length bytes has not yet seen the end: use :meth:`drain`.
        """
        return self._complete

    @property
    def started(self) -> bool:
        """True once body bytes were asked for (``on_first_read``/``fill`` called)."""
        return self._started

    def _more(self) -> bytes:
        """The next piece of the body from ``fill``; ``b""`` at its end."""
        if self._done:
            return b""
        if self._error is not None:
            raise self._error
        try:
            if not self._started:
                self._started = True
                callback = self._on_first_read
                if callback is not None:
                    self._on_first_read = None
                    callback()
            data = self._fill()
        except Exception as error:
            self._error = error
            raise
        if not data:
            self._done = self._complete = True
        return data

    def _restore(self, pieces: list[bytes]) -> None:
        """Put back bytes taken from the buffer by a read that then failed."""
        rest = self._buf[self._pos :]
        if rest:
            pieces.append(rest)
        self._buf = b"".join(pieces)
        self._pos = 0

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes (all the rest if ``size`` is negative or None).

        Returns fewer than ``size`` bytes only at the end of the body.
        """
        buf = self._buf
        pos = self._pos
        if size is None or size < 0:
            pieces = self._take_buffered()
            more = self._more
            try:
                while True:
                    data = more()
                    if not data:
                        break
                    pieces.append(data)
            except BaseException:
                self._restore(pieces)
                raise
            return b"".join(pieces)
        end = pos + size
        if end <= len(buf):
            self._pos = end
            return buf[pos:end]
        return self._read_slow(size)

    def _take_buffered(self) -> list[bytes]:
        """Empty the buffer; its unread bytes as a list of at most one piece."""
        buf, pos = self._buf, self._pos
        self._buf = b""
        self._pos = 0
        return [buf[pos:]] if pos < len(buf) else []

    def _read_slow(self, size: int) -> bytes:
        pieces = self._take_buffered()
        have = len(pieces[0]) if pieces else 0
        more = self._more
        try:
            while have < size:
                data = more()
                if not data:
                    break
                need = size - have
                if len(data) > need:
                    pieces.append(data[:need])
                    self._buf = data
                    self._pos = need
                    break
                pieces.append(data)
                have += len(data)
        except BaseException:
            self._restore(pieces)
            raise
        return b"".join(pieces)

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line (through ``b"\\n"``), at most ``size`` bytes if ``size`` >= 0."""
        buf = self._buf
        pos = self._pos
        if size is None or size < 0:
            size = -1
            i = buf.find(b"\n", pos)
        else:
            end = pos + size
            i = buf.find(b"\n", pos, end)
            if i < 0 and end <= len(buf):
                self._pos = end
                return buf[pos:end]
        if i >= 0:
            i += 1
            self._pos = i
            return buf[pos:i]
        return self._readline_slow(size)

    def _readline_slow(self, size: int) -> bytes:
        # No newline in the buffer and (if size >= 0) fewer than size bytes buffered.
        pieces = self._take_buffered()
        have = len(pieces[0]) if pieces else 0
        more = self._more
        try:
            while True:
                data = more()
                if not data:
                    break
                if size < 0:
                    i = data.find(b"\n")
                    cut = i + 1 if i >= 0 else 0
                else:
                    room = size - have  # > 0
                    i = data.find(b"\n", 0, room)
                    if i >= 0:
                        cut = i + 1
                    elif len(data) >= room:
                        cut = room
                    else:
                        cut = 0
                if cut:
                    if cut < len(data):
                        pieces.append(data[:cut])
                        self._buf = data
                        self._pos = cut
                    else:
                        pieces.append(data)
                    break
                pieces.append(data)
                have += len(data)
        except BaseException:
            self._restore(pieces)
            raise
        return b"".join(pieces)

    def drain(self, limit: int) -> bool:
        """Discard the rest of the body, receiving at most ``limit`` more bytes.

        Never calls ``on_first_read``. Bytes already buffered do not count
        toward ``limit``. Returns True if the end of the body was reached (then
        :attr:`complete` is True); False if more than ``limit`` bytes would be
        needed or ``fill`` raised (the exception is kept, not propagated).
        Afterwards reads return ``b""`` (or raise the kept exception).
        """
        self._buf = b""
        self._pos = 0
        if self._done:
            return self._complete
        if self._error is not None:
            return False
        fill = self._fill
        received = 0
        try:
            while True:
                data = fill()
                if not data:
                    self._done = self._complete = True
                    return True
                received += len(data)
                if received > limit:
                    self._done = True
                    return False
        except Exception as error:
            self._error = error
            return False
