"""The I/O layer: listeners, the event loop, worker threads; the only place sockets exist."""

from .server import Server, run

__all__ = ["Server", "run"]
