"""A connection's states and every transition between them.

Everything that affects the connection state machine lives here (as in h11's
``_state``): ``Connection`` changes state only through ``Connection.enter``, which
refuses any move not listed in ``TRANSITIONS`` (the two moves every request makes,
to WORKER and back to IDLE, check ``sources`` of this table inline instead).

Who owns the connection in each state:

- IDLE: the loop; waiting for (the rest of) a request head.
- BODY: the loop; buffering a request body.
- WORKER: a worker thread runs the application and writes the response.
- FLUSHING: the loop; sending what the worker (or a refusal) left queued.
- LINGERING: the loop; the response is out, input is drained briefly before the close.
- CLOSED: no one; the socket is closed.
"""

from __future__ import annotations

IDLE = 0
BODY = 1
WORKER = 2
FLUSHING = 3
LINGERING = 4
CLOSED = 5

NAMES = ("IDLE", "BODY", "WORKER", "FLUSHING", "LINGERING", "CLOSED")

# (from, to), with why.  Moving to CLOSED is allowed from every state but CLOSED.
TRANSITIONS: frozenset[tuple[int, int]] = frozenset(
    {
        (IDLE, BODY),  # a head whose body the loop buffers
        (IDLE, WORKER),  # a complete request without a body
        (BODY, WORKER),  # the body is complete
        (IDLE, FLUSHING),  # a refusal (4xx, 503) queued, not yet all sent
        (BODY, FLUSHING),  # a refusal inside the body (408, 413, 400)
        (IDLE, LINGERING),  # a refusal sent at once: drain and close
        (BODY, LINGERING),
        (WORKER, IDLE),  # the response is out; keep-alive
        (WORKER, FLUSHING),  # the worker left output to the loop
        (WORKER, LINGERING),  # the response is out; the connection closes
        (FLUSHING, IDLE),  # the leftovers are out; keep-alive
        (FLUSHING, LINGERING),  # the leftovers are out; the connection closes
    }
    | {(state, CLOSED) for state in (IDLE, BODY, WORKER, FLUSHING, LINGERING)}
)


def sources(state: int) -> frozenset[int]:
    """The states from which a connection may move to ``state``."""
    return frozenset(old for old, new in TRANSITIONS if new == state)


class StateError(RuntimeError):
    """A connection was asked to make a move the state machine does not have."""


def refuse(old: int, new: int) -> StateError:
    return StateError(f"connection cannot go from {NAMES[old]} to {NAMES[new]}")
