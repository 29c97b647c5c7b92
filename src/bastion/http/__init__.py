"""bastion's HTTP/1.1 engine: sans-IO request parsing and response framing.

Bytes in, events out; response parts in, bytes out.  Nothing here touches a
socket, a thread or the clock: time arrives as a parameter.
"""

from .error_pages import REASONS, error_page, render_error
from .errors import (
    BadRequest,
    ContentTooLarge,
    ExpectationFailed,
    HeaderFieldsTooLarge,
    IncompleteMessage,
    MethodNotImplemented,
    NotImplementedCoding,
    ProtocolError,
    ResponseError,
    URITooLong,
    VersionNotSupported,
)
from .events import CONNECTION_CLOSED, END_OF_MESSAGE, NEED_DATA, Data, EndOfMessage, Request
from .limits import DEFAULT_LIMITS, Limits
from .memo import Caches
from .parser import RequestParser
from .response import (
    CHUNKED,
    CLOSE_DELIMITED,
    CONTINUE,
    LAST_CHUNK,
    LENGTH,
    NO_BODY,
    ResponseHead,
    check_response,
    chunk,
    render_head,
)

__all__ = [
    "CHUNKED",
    "CLOSE_DELIMITED",
    "CONNECTION_CLOSED",
    "CONTINUE",
    "DEFAULT_LIMITS",
    "END_OF_MESSAGE",
    "LAST_CHUNK",
    "LENGTH",
    "NEED_DATA",
    "NO_BODY",
    "REASONS",
    "BadRequest",
    "Caches",
    "ContentTooLarge",
    "Data",
    "EndOfMessage",
    "ExpectationFailed",
    "HeaderFieldsTooLarge",
    "IncompleteMessage",
    "Limits",
    "MethodNotImplemented",
    "NotImplementedCoding",
    "ProtocolError",
    "Request",
    "RequestParser",
    "ResponseError",
    "ResponseHead",
    "URITooLong",
    "VersionNotSupported",
    "check_response",
    "chunk",
    "error_page",
    "render_error",
    "render_head",
]
