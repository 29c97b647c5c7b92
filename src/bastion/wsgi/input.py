"""``wsgi.input`` objects (PEP 3333, "Input and Error Streams").

Three kinds, all ending exactly at the end of the request body (so the server
sets ``wsgi.input_terminated``) and never blocking once the body is complete:

* :data:`EMPTY_INPUT` -- a shared, stateless input for requests without a body;
* :func:`body_input` -- for a body received in full in memory;
* :class:`FileInput` -- for a body received in full into a temporary file.

The server reads every body in full before the application runs, so a slow
client never holds a worker thread.

All of them accept ``None`` as a size meaning "no limit" (-1), return ``b""`` at
the end of the body, and return fewer bytes than asked from ``read(size)`` only
at the end of the body.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

__all__ = ["EMPTY_INPUT", "ClientDisconnected", "FileInput", "body_input"]


class ClientDisconnected(OSError):
    """The client went away (or stopped reading) while its response was being sent."""


class _EmptyInput:
    """The input of a request without a body: every read is at the end.

    Stateless, so one instance (:data:`EMPTY_INPUT`) serves every such request.
    """

    __slots__ = ()

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
