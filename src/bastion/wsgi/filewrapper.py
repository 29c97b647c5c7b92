"""``wsgi.file_wrapper`` (PEP 3333, "Optional Platform-Specific File Handling")."""

from __future__ import annotations

import io
import os
import stat
from typing import Any

__all__ = ["FileWrapper"]


class FileWrapper:
    """Iterate over a file-like object in blocks; let the server sendfile() it.

    ``FileWrapper(filelike, block_size=8192)`` yields ``filelike.read(block_size)``
    until it returns ``b""``; :meth:`close` closes ``filelike`` if it can be.
    The server may call :meth:`sendfile_params` first to send a real file with
    ``socket.sendfile`` instead of iterating.
    """

    __slots__ = ("block_size", "filelike")

    def __init__(self, filelike: Any, block_size: int = 8192) -> None:
        self.filelike = filelike
        self.block_size = block_size

    def __iter__(self) -> FileWrapper:
        return self

    def __next__(self) -> bytes:
        data = self.filelike.read(self.block_size)
        if data:
            return data
        raise StopIteration

    def close(self) -> None:
        """Close the wrapped object if it has a ``close`` method (PEP 3333)."""
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()

    def sendfile_params(self) -> tuple[int, int, int | None] | None:
        """``(fd, offset, count)`` if the object can be sent with sendfile, else None.

        Only when ``os.sendfile`` exists and ``filelike.fileno()`` is a regular
        file (not a pipe, socket or text stream). ``offset`` is ``filelike.tell()``
        (0 if that fails); ``count`` is the number of bytes from ``offset`` to the
        end of the file, or None if unknown (the size is reported as 0, as for
        files under /proc: the server should then iterate). Reads nothing, so
        iterating afterwards still yields the whole rest of the file.
        """
        if not hasattr(os, "sendfile"):
            return None
        filelike = self.filelike
        if isinstance(filelike, io.TextIOBase):
            return None
        fileno = getattr(filelike, "fileno", None)
        if fileno is None:
            return None
        try:
            fd = fileno()
            if type(fd) is not int:
                return None
            st = os.fstat(fd)
        except (OSError, ValueError, TypeError):  # io.UnsupportedOperation, closed file
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        try:
            offset = filelike.tell()
            if type(offset) is not int or offset < 0:
                offset = 0
        except Exception:
            offset = 0
        size = st.st_size
        if size <= 0:
            return fd, offset, None
        return fd, offset, max(size - offset, 0)
