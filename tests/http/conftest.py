"""Drive a ``RequestParser`` over raw bytes and describe what came out.

``parse`` returns a list of plain tuples so tests (and the split-invariance
properties) can compare whole conversations: consecutive ``Data`` events are
merged, since where body bytes are cut depends on how the input was split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from bastion.http import (
    CONNECTION_CLOSED,
    DEFAULT_LIMITS,
    NEED_DATA,
    Data,
    EndOfMessage,
    Limits,
    ProtocolError,
    Request,
    RequestParser,
)

MAX_EVENTS = 10_000


def describe(request: Request) -> tuple:
    """Every public attribute of a ``Request``, as a comparable tuple."""
    return (
        "request",
        request.method,
        request.target,
        request.path,
        request.query,
        request.version,
        dict(request.headers),
        request.content_length,
        request.chunked,
        request.keep_alive,
        request.expect_continue,
        request.scheme,
        request.has_body,
    )


def _drain(parser: RequestParser, out: list) -> None:
    for _ in range(MAX_EVENTS):
        event = parser.next_event()
        if event is NEED_DATA:
            return
        if event is CONNECTION_CLOSED:
            out.append(("closed",))
            return
        if type(event) is Request:
            out.append(describe(event))
        elif type(event) is Data:
            assert event.data, "the parser emitted an empty Data event"
            if out and out[-1][0] == "data":
                out[-1] = ("data", out[-1][1] + event.data)
            else:
                out.append(("data", event.data))
        else:
            assert type(event) is EndOfMessage
            out.append(("end", dict(event.trailers)))
    raise AssertionError("the parser produced more events than any test input holds")


def run(
    pieces: Iterable[bytes], limits: Limits = DEFAULT_LIMITS, eof: bool = True
) -> tuple[list, ProtocolError | None]:
    """Feed ``pieces`` one by one; return (events, the error that stopped it or None)."""
    parser = RequestParser(limits)
    out: list = []
    try:
        for piece in pieces:
            parser.feed(piece)
            _drain(parser, out)
        if eof:
            parser.feed_eof()
            _drain(parser, out)
    except ProtocolError as error:
        return out, error
    return out, None


def split(data: bytes, step: int | None) -> list[bytes]:
    """``data`` whole (step None) or in pieces of ``step`` bytes."""
    if step is None:
        return [data]
    return [data[i : i + step] for i in range(0, len(data), step)] or [b""]


def lines(data: bytes) -> list[bytes]:
    """``data`` cut after every LF: one read per line."""
    return [piece + b"\n" for piece in data.split(b"\n")[:-1]] + [data.rsplit(b"\n", 1)[-1]]


def build(*lines: bytes, body: bytes = b"") -> bytes:
    """A message from head lines (CRLF-joined, blank line added) and a body."""
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


BYTEWISE_MAX = 4096


def parse_ok(data: bytes, limits: Limits = DEFAULT_LIMITS, step: int | None = None) -> list:
    """Events of a stream that must parse without error (the final "closed" dropped).

    With no ``step``, the stream is parsed whole and, when short, also one byte
    at a time: both must give the same events.
    """
    events, error = run(split(data, step), limits)
    assert error is None, f"unexpected {type(error).__name__}: {error}"
    assert events and events[-1] == ("closed",)
    if step is None and len(data) <= BYTEWISE_MAX:
        assert run(split(data, 1), limits) == (events, None)
    return events[:-1]


def reject(data: bytes, limits: Limits = DEFAULT_LIMITS, step: int | None = None) -> int:
    """The status of the error a stream must raise.

    With no ``step``, the stream is parsed whole and, when short, also one byte
    at a time: both must fail with the same status.
    """
    _, error = run(split(data, step), limits)
    assert error is not None, "the parser accepted an invalid request"
    if step is None and len(data) <= BYTEWISE_MAX:
        _, bytewise = run(split(data, 1), limits)
        assert bytewise is not None, "the parser accepted an invalid request fed bytewise"
        assert bytewise.status == error.status
    return error.status


@pytest.fixture(scope="session")
def ok() -> Callable[..., list]:
    return parse_ok


@pytest.fixture(scope="session")
def bad() -> Callable[..., int]:
    return reject


@pytest.fixture(scope="session")
def msg() -> Callable[..., bytes]:
    return build


@pytest.fixture(scope="session")
def engine():
    """The helpers as one object, for modules that need more than ``ok``/``bad``."""

    class Engine:
        run = staticmethod(run)
        split = staticmethod(split)
        lines = staticmethod(lines)
        describe = staticmethod(describe)
        ok = staticmethod(parse_ok)
        bad = staticmethod(reject)
        build = staticmethod(build)

    return Engine
