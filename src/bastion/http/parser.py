"""The request side of one HTTP/1.1 connection, sans-IO.

Feed it the bytes read from a connection; ask it for events::

    parser = RequestParser()
    parser.feed(data)
    event = parser.next_event()   # Request | Data | EndOfMessage | NEED_DATA | CONNECTION_CLOSED

Each request is a ``Request`` event, then zero or more ``Data`` events, then
one ``EndOfMessage``; then the next pipelined request, from the bytes that
followed.  The same events come out for any split of the input.  Any protocol
error is raised as a ``ProtocolError``; from then on the parser raises that
same error again and never looks at another byte: the connection must close.

Line endings: a bare LF (or bare CR) anywhere in a head, a chunk-size line or
a trailer section is refused with 400.  RFC 9112 2.2 lets a recipient accept a
bare LF; refusing it is the one rule that cannot disagree with a stricter peer
about where a line ends.
"""

from __future__ import annotations

from .errors import (
    BadRequest,
    ContentTooLarge,
    HeaderFieldsTooLarge,
    IncompleteMessage,
    ProtocolError,
    URITooLong,
)
from .events import CONNECTION_CLOSED, END_OF_MESSAGE, NEED_DATA, Data, EndOfMessage, Request
from .fields import parse_fields
from .grammar import BARE_CR_RE, BARE_LF_RE, CHUNK_SIZE_LINE_RE, HEXDIG_RUN_RE
from .head import parse_head
from .limits import DEFAULT_LIMITS, Limits
from .memo import Caches

# Parser states.
HEAD = "HEAD"
BODY_LENGTH = "BODY_LENGTH"
CHUNK_SIZE = "CHUNK_SIZE"
CHUNK_DATA = "CHUNK_DATA"
CHUNK_DATA_END = "CHUNK_DATA_END"
TRAILERS = "TRAILERS"
MESSAGE_END = "MESSAGE_END"
ERROR = "ERROR"

# RFC 9110 6.5.1: fields a sender must not put in a trailer section because
# they control framing, routing, authentication, request modifiers or content
# processing.  A trailer naming one of them is refused.
FORBIDDEN_TRAILERS = frozenset(
    {
        "transfer-encoding",
        "content-length",
        "host",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "expect",
        "max-forwards",
        "cache-control",
        "pragma",
        "range",
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
        "if-range",
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "content-encoding",
        "content-type",
        "content-range",
        "content-location",
        "location",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
    }
)

# Input bytes of whole chunks taken into one Data event: bounds the work one call does.
_CHUNK_RUN_BYTES = 65536
_chunk_size_line = CHUNK_SIZE_LINE_RE.match

_CRLF = b"\r\n"
_HEAD_END = b"\r\n\r\n"


class RequestParser:
    """Incremental, validating parser for the requests on one connection.

    ``caches`` remembers what was checked before: a server passes its own to all its
    connections' parsers; without one, the parser keeps a private one.
    """

    __slots__ = (
        "_body_total",
        "_buf",
        "_caches",
        "_chunk_left",
        "_direct",
        "_eof",
        "_error",
        "_leading",
        "_limits",
        "_remaining",
        "_scanned",
        "_trailers",
        "state",
    )

    def __init__(self, limits: Limits = DEFAULT_LIMITS, caches: Caches | None = None) -> None:
        self._limits = limits
        self._caches = caches if caches is not None else Caches()
        self._buf = bytearray()
        # Body bytes fed while the buffer was empty, kept as given: a Content-Length
        # body then reaches the app without being copied through the buffer.
        self._direct: bytes | None = None
        self.state = HEAD
        self._scanned = 0
        self._leading = 0
        self._remaining = 0
        self._chunk_left = 0
        self._body_total = 0
        self._trailers: dict[str, str] | None = None
        self._eof = False
        self._error: ProtocolError | None = None

    @property
    def limits(self) -> Limits:
        return self._limits

    @property
    def buffered(self) -> int:
        """Bytes received and not yet turned into events."""
        direct = self._direct
        return len(self._buf) if direct is None else len(direct) + len(self._buf)

    @property
    def at_message_boundary(self) -> bool:
        """True between requests: the last request's EndOfMessage has been returned."""
        return self.state == HEAD

    def feed(self, data: bytes) -> None:
        """Append bytes read from the connection."""
        if self._eof and data:
            raise RuntimeError("data fed after end of stream")
        if self.state is BODY_LENGTH and type(data) is bytes:
            if self._direct is None and not self._buf:
                self._direct = data
                return
            if self._direct is not None:
                self._buf[:0] = self._direct
                self._direct = None
        self._buf += data

    def feed_eof(self) -> None:
        """Record that the peer closed its side of the connection."""
        self._eof = True

    def next_event(self) -> Request | Data | EndOfMessage | object:
        """Return the next event, ``NEED_DATA`` or ``CONNECTION_CLOSED``."""
        state = self.state
        try:
            if state is HEAD:
                return self._next_head()
            if state is BODY_LENGTH:
                return self._next_length_data()
            if state is MESSAGE_END:
                self.state = HEAD
                trailers = self._trailers
                if trailers is None:
                    return END_OF_MESSAGE
                self._trailers = None
                return EndOfMessage(trailers)
            if state is ERROR:
                # The same error again, without piling up tracebacks.
                raise self._error.with_traceback(None)  # type: ignore[union-attr]
            return self._next_chunked()
        except ProtocolError as error:
            self.state = ERROR
            self._error = error
            raise

    # -- head -----------------------------------------------------------

    def _next_head(self) -> Request | object:
        buf = self._buf
        end = buf.find(_HEAD_END, self._scanned)
        if end <= 0 or buf[0] == 13:
            if buf[:2] == _CRLF:
                # RFC 9112 2.2: ignore empty lines before a request line.
                self._skip_leading_empty_lines()
                end = buf.find(_HEAD_END)
            if end < 0:
                return self._partial_head()
        limits = self._limits
        size = end + 4
        if size > limits.max_header_size:
            raise self._earliest_head_error(bytes(buf[:size]), self._head_too_large(end))
        if size == len(buf):
            head = buf.decode("latin-1")
            buf.clear()
        else:
            head = buf[:size].decode("latin-1")
            del buf[:size]
        self._scanned = 0
        self._leading = 0
        try:
            request = parse_head(head, limits, self._caches)
        except ProtocolError as error:
            raise self._earliest_head_error(head.encode("latin-1"), error) from None
        if request.chunked:
            self.state = CHUNK_SIZE
            self._body_total = 0
        elif request.content_length:
            self.state = BODY_LENGTH
            self._remaining = request.content_length
        else:
            self.state = MESSAGE_END
        return request

    def _skip_leading_empty_lines(self) -> None:
        buf = self._buf
        count = 0
        while buf[count : count + 2] == _CRLF:
            count += 2
        del buf[:count]
        self._scanned = 0
        self._leading += count
        if self._leading > self._limits.max_request_line:
            raise BadRequest("too many empty lines before the request line")

    def _partial_head(self) -> object:
        """No complete head yet: refuse early what can never become valid."""
        buf = self._buf
        limits = self._limits
        size = len(buf)
        start = self._scanned
        if BARE_LF_RE.search(buf, start) is not None:
            raise BadRequest("bare LF in request head")
        if BARE_CR_RE.search(buf, start) is not None:
            raise BadRequest("bare CR in request head")
        line_end = buf.find(_CRLF, 0, limits.max_request_line + 2)
        if line_end < 0 and size > limits.max_request_line + 1:
            raise URITooLong("request line too long")
        if size >= limits.max_header_size:
            raise self._head_too_large(size)
        # Re-scan the last three bytes: a terminator may straddle two reads.
        self._scanned = max(size - 3, 0)
        if self._eof:
            if size:
                raise IncompleteMessage("connection closed inside a request head")
            return CONNECTION_CLOSED
        return NEED_DATA

    def _head_too_large(self, end: int) -> ProtocolError:
        line_end = self._buf.find(_CRLF, 0, end + 2)
        if line_end < 0 or line_end > self._limits.max_request_line:
            return URITooLong("request line too long")
        return HeaderFieldsTooLarge("request header section too large")

    def _earliest_head_error(self, head: bytes, error: ProtocolError) -> ProtocolError:
        """The error a byte-at-a-time feed of ``head`` would have met first.

        ``head`` is a complete head, CRLF CRLF included, and ``error`` what
        checking it whole found.  The same stream must fail the same way
        however it is split, and ``_partial_head`` checks some faults as bytes
        arrive: a bare LF on arrival, a bare CR when the byte after it arrives,
        an overlong request line or head when it passes its limit.  Whichever
        of those a bytewise feed meets before the head completes wins; any
        other fault shows only once the head is complete.  Error path only.
        """
        limits = self._limits
        found: list[tuple[int, int, ProtocolError]] = []
        match = BARE_LF_RE.search(head)
        if match is not None:
            found.append((match.start(), 0, BadRequest("bare LF in request head")))
        match = BARE_CR_RE.search(head)
        if match is not None:
            found.append((match.start() + 1, 1, BadRequest("bare CR in request head")))
        if head.find(_CRLF, 0, limits.max_request_line + 2) < 0:
            found.append((limits.max_request_line + 1, 2, URITooLong("request line too long")))
        if len(head) > limits.max_header_size:
            too_large = HeaderFieldsTooLarge("request header section too large")
            found.append((limits.max_header_size - 1, 3, too_large))
        if found:
            position, _, early = min(found, key=lambda item: item[:2])
            if position < len(head) - 1:
                return early
        return error

    # -- Content-Length body ----------------------------------------------

    def _next_length_data(self) -> Data | object:
        direct = self._direct
        if direct is not None:
            self._direct = None
            remaining = self._remaining
            if len(direct) > remaining:
                # The bytes after the body start the next request.
                self._buf[:0] = direct[remaining:]
                direct = direct[:remaining]
            remaining -= len(direct)
            self._remaining = remaining
            if not remaining:
                self.state = MESSAGE_END
            return Data(direct)
        buf = self._buf
        if not buf:
            if self._eof:
                raise IncompleteMessage("connection closed inside a request body")
            return NEED_DATA
        remaining = self._remaining
        if len(buf) <= remaining:
            data = bytes(buf)
            buf.clear()
        else:
            data = bytes(buf[:remaining])
            del buf[:remaining]
        remaining -= len(data)
        self._remaining = remaining
        if not remaining:
            self.state = MESSAGE_END
        return Data(data)

    # -- chunked body (RFC 9112 7.1) --------------------------------------

    def _next_chunked(self) -> Data | EndOfMessage | object:
        pieces: list[bytes] = []
        try:
            return self._dechunk(pieces)
        except ProtocolError as error:
            if not pieces:
                raise
            # Deliver the valid data before the fault; the error comes next,
            # as it would had the bytes arrived one at a time.
            self.state = ERROR
            self._error = error
            return Data(b"".join(pieces))

    def _dechunk(self, pieces: list[bytes]) -> Data | EndOfMessage | object:
        buf = self._buf
        while True:
            state = self.state
            if state is CHUNK_DATA:
                if not buf:
                    break
                left = self._chunk_left
                if len(buf) <= left:
                    piece = bytes(buf)
                    buf.clear()
                else:
                    piece = bytes(buf[:left])
                    del buf[:left]
                pieces.append(piece)
                left -= len(piece)
                self._chunk_left = left
                if left:
                    break
                self.state = CHUNK_DATA_END
            elif state is CHUNK_DATA_END:
                if len(buf) < 2:
                    if buf and buf[0] != 13:
                        raise BadRequest("chunk data not followed by CRLF")
                    break
                if buf[0] != 13 or buf[1] != 10:
                    raise BadRequest("chunk data not followed by CRLF")
                del buf[:2]
                self.state = CHUNK_SIZE
            elif state is CHUNK_SIZE:
                if self._take_whole_chunks(pieces):
                    break  # enough work for one event: the rest waits for the next call
                if not self._read_chunk_size():
                    break
            else:  # TRAILERS
                if not self._read_trailers():
                    break
                if not pieces:
                    return self.next_event()
                break
        if pieces:
            return Data(b"".join(pieces))
        if self._eof:
            raise IncompleteMessage("connection closed inside a chunked body")
        return NEED_DATA

    def _take_whole_chunks(self, pieces: list[bytes]) -> bool:
        """Fast path for runs of chunks: take every complete, valid, non-last chunk in the
        buffer (size line, data and CRLF all there) into ``pieces``, up to
        ``_CHUNK_RUN_BYTES`` of input; True when it stopped at that bound.

        Anything else (a partial chunk, the last chunk, an error, a limit) is left where
        it starts for the general path, which meets it exactly as it would a byte at a time.
        """
        buf = self._buf
        limits = self._limits
        max_extension = limits.max_chunk_extension
        max_total = limits.max_body_size
        total = self._body_total
        available = len(buf)
        stop = min(available, _CHUNK_RUN_BYTES)
        match = _chunk_size_line
        pos = 0
        while pos < stop:
            found = match(buf, pos)
            if found is None:
                break
            start = found.end()
            if start - pos - 2 > max_extension:  # perhaps too long: the exact check decides
                break
            size = int(found.group(1), 16)
            end = start + size
            if not size or end + 2 > available or total + size > max_total:
                break
            if buf[end] != 13 or buf[end + 1] != 10:
                break
            pieces.append(buf[start:end])
            total += size
            pos = end + 2
        if pos:
            del buf[:pos]
            self._body_total = total
        return pos >= _CHUNK_RUN_BYTES

    def _read_chunk_size(self) -> bool:
        """Consume one chunk-size line; return False when it is not complete yet."""
        buf = self._buf
        limits = self._limits
        max_line = 16 + limits.max_chunk_extension + 2
        end = buf.find(_CRLF, 0, max_line)
        if end < 0:
            if b"\n" in buf[:max_line]:
                raise BadRequest("bare LF in chunk-size line")
            if len(buf) >= max_line:
                self._raise_bad_size_line(bytes(buf[:max_line]))
            return False
        match = _chunk_size_line(buf, 0, end + 2)
        if match is None:
            self._raise_bad_size_line(buf[: end + 2])
        size_hex, extensions = match.groups()  # type: ignore[union-attr]
        if len(extensions) > limits.max_chunk_extension:
            raise BadRequest("chunk extension too large")
        del buf[: end + 2]
        size = int(size_hex, 16)
        if size == 0:
            self.state = TRAILERS
            return True
        total = self._body_total + size
        if total > limits.max_body_size:
            raise ContentTooLarge("request body too large")
        self._body_total = total
        self._chunk_left = size
        self.state = CHUNK_DATA
        return True

    def _raise_bad_size_line(self, line: bytes | bytearray) -> None:
        digits = HEXDIG_RUN_RE.match(line.decode("latin-1")).end()  # type: ignore[union-attr]
        if digits == 0:
            raise BadRequest("invalid chunk size")
        if digits > 16:
            raise BadRequest("chunk size too long")
        if len(line) >= 16 + self._limits.max_chunk_extension + 2:
            raise BadRequest("chunk extension too large")
        raise BadRequest("invalid chunk-size line")

    def _read_trailers(self) -> bool:
        """Consume the trailer section; return False when it is not complete yet."""
        buf = self._buf
        if buf[:2] == _CRLF:
            del buf[:2]
            self.state = MESSAGE_END
            return True
        limit = self._limits.max_trailer_size
        end = buf.find(_HEAD_END, 0, limit + 4)
        if end < 0:
            if BARE_LF_RE.search(buf, 0, limit) or BARE_CR_RE.search(buf, 0, limit):
                raise BadRequest("bare CR or LF in trailer section")
            if len(buf) >= limit + 4:
                raise BadRequest("trailer section too large")
            return False
        if end + 4 > limit:
            raise BadRequest("trailer section too large")
        block = "\r\n" + buf[: end + 4].decode("latin-1")
        trailers = parse_fields(block, self._caches)
        if not FORBIDDEN_TRAILERS.isdisjoint(trailers):
            raise BadRequest("forbidden field in trailer section")
        del buf[: end + 4]
        self._trailers = trailers
        self.state = MESSAGE_END
        return True
