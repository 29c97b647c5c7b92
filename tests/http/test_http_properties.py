"""Property tests and a bounded fuzz run (hypothesis) over generated request streams.

- Any split of a valid stream gives the same events as the whole stream, and those
  events are the requests that were generated.
- Mutated valid streams and random bytes only ever raise the engine's own errors, with
  the same status whether fed whole or one byte at a time.
"""

from __future__ import annotations

import string
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.http import Limits

TCHARS = "!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits
VCHARS = "".join(chr(c) for c in range(0x21, 0x7F)) + "".join(chr(c) for c in range(0x80, 0x100))
PATH_CHARS = "".join(c for c in map(chr, range(0x21, 0x7F)) if c not in "#?")
QUERY_CHARS = "".join(c for c in map(chr, range(0x21, 0x7F)) if c != "#")
EXTENSIONS = [b"", b";a", b";a=b", b' ; name = "q \\" v"', b";x;y=z"]
SMALL = Limits(
    max_request_line=96,
    max_header_size=320,
    max_header_fields=8,
    max_body_size=300,
    max_chunk_extension=24,
    max_trailer_size=64,
)

PROPERTY = settings(max_examples=150, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=1000, deadline=1000, suppress_health_check=[HealthCheck.too_slow])

field_value = st.text(alphabet=VCHARS + " \t", max_size=20).map(lambda v: v.strip(" \t"))
field_name = st.text(alphabet=TCHARS, min_size=1, max_size=10).map(lambda n: "X-" + n)
fields = st.lists(st.tuples(field_name, field_value), max_size=5)


@st.composite
def requests(draw: st.DrawFn) -> tuple[bytes, tuple]:
    """One valid request: its bytes and what the parser must report for it."""
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "X-CUSTOM"]))
    path = "/" + draw(st.text(alphabet=PATH_CHARS, max_size=15))
    query = draw(st.one_of(st.none(), st.text(alphabet=QUERY_CHARS, max_size=15)))
    target = path if query is None else f"{path}?{query}"
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0"]))
    header_list = draw(fields)
    lines = [f"{method} {target} {version}"]
    if version == "HTTP/1.1":
        header_list = [("Host", "example.com:8080"), *header_list]
    kind = draw(
        st.sampled_from(
            ["none", "length", "chunked"] if version == "HTTP/1.1" else ["none", "length"]
        )
    )
    body = b""
    trailers: list[tuple[str, str]] = []
    wire_body = b""
    if kind == "length":
        body = draw(st.binary(max_size=120))
        header_list.append(("Content-Length", str(len(body))))
        wire_body = body
    elif kind == "chunked":
        chunks = draw(st.lists(st.binary(min_size=1, max_size=40), max_size=4))
        trailers = draw(st.lists(st.tuples(field_name, field_value), max_size=2))
        header_list.append(("Transfer-Encoding", "chunked"))
        for data in chunks:
            wire_body += b"%x" % len(data) + draw(st.sampled_from(EXTENSIONS)) + b"\r\n"
            wire_body += data + b"\r\n"
        wire_body += b"0" + draw(st.sampled_from(EXTENSIONS)) + b"\r\n"
        wire_body += b"".join(f"{n}: {v}\r\n".encode("latin-1") for n, v in trailers) + b"\r\n"
        body = b"".join(chunks)
    for name, value in header_list:
        lines.append(f"{name}: {value}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + wire_body
    expected = (method, target, version, combine(header_list), body, combine(trailers))
    return raw, expected


def combine(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


streams = st.lists(requests(), min_size=1, max_size=3)


def summary(events: list) -> list[tuple]:
    """Per request: (method, target, version, headers, body, trailers)."""
    out = []
    for event in events:
        if event[0] == "request":
            out.append([event[1], event[2], event[5], event[6], b"", {}])
        elif event[0] == "data":
            out[-1][4] += event[1]
        elif event[0] == "end":
            out[-1][5] = event[1]
    return [tuple(item) for item in out]


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({0, len(data), *(p % (len(data) + 1) for p in points)})
    return [data[a:b] for a, b in pairwise(edges)] or [b""]


@PROPERTY
@given(stream=streams, points=st.lists(st.integers(min_value=0), max_size=12))
def test_any_split_of_a_valid_stream_parses_identically(engine, stream, points):
    """Issue 2: the same messages for any split of the input bytes."""
    data = b"".join(raw for raw, _ in stream)
    whole, error = engine.run([data])
    assert error is None, error
    assert summary(whole) == [expected for _, expected in stream]
    assert whole[-1] == ("closed",)
    assert engine.run(cut(data, points)) == (whole, None)


@settings(max_examples=25, deadline=2000)
@given(stream=streams)
def test_byte_at_a_time_parses_identically(engine, stream):
    """Issue 2: down to one byte at a time."""
    data = b"".join(raw for raw, _ in stream)
    assert engine.run(engine.split(data, 1)) == engine.run([data])


INTERESTING = [
    b"\r",
    b"\n",
    b"\r\n",
    b"\r\n\r\n",
    b"\x00",
    b" ",
    b"\t",
    b":",
    b";",
    b",",
    b"0",
    b"f",
    b"\x80",
    b"\x7f",
    b"Transfer-Encoding: chunked\r\n",
    b"Content-Length: 3\r\n",
    b"Host: x\r\n",
    b"0\r\n\r\n",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(b"".join(raw for raw, _ in draw(streams)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=len(data)))
        action = draw(st.sampled_from(["insert", "replace", "delete", "byte"]))
        if action == "insert":
            data[position:position] = draw(st.sampled_from(INTERESTING))
        elif action == "replace":
            data[position : position + 1] = draw(st.sampled_from(INTERESTING))
        elif action == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=8))]
        else:
            data[position : position + 1] = bytes([draw(st.integers(min_value=0, max_value=255))])
    return bytes(data)


def same_outcome_bytewise(engine, data: bytes, limits: Limits) -> None:
    """Only ProtocolError may escape (``run`` catches nothing else); splits agree."""
    events, error = engine.run([data], limits)
    bytewise_events, bytewise_error = engine.run(engine.split(data, 1), limits)
    assert (error is None) == (bytewise_error is None)
    if error is None:
        assert events == bytewise_events
    else:
        assert error.status == bytewise_error.status
        assert error.status in (400, 413, 414, 417, 431, 501, 505)


@FUZZ
@given(data=mutated(), small=st.booleans())
def test_fuzz_mutated_streams_raise_only_engine_errors(engine, data, small):
    """Issue tests: mutated bytes only ever raise the engine's own errors (bounded run)."""
    same_outcome_bytewise(engine, data, SMALL if small else Limits())


@PROPERTY
@given(data=st.binary(max_size=300), small=st.booleans())
def test_fuzz_random_bytes_raise_only_engine_errors(engine, data, small):
    """Issue tests: random bytes only ever raise the engine's own errors."""
    same_outcome_bytewise(engine, data, SMALL if small else Limits())


@PROPERTY
@given(head=st.lists(st.sampled_from([*INTERESTING, b"GET / HTTP/1.1", b"a", b"X-A"]), max_size=25))
def test_fuzz_token_soup_raises_only_engine_errors(engine, head):
    """Streams built from protocol fragments reach deeper states than random bytes."""
    same_outcome_bytewise(engine, b"POST / HTTP/1.1\r\n" + b"".join(head), Limits())
