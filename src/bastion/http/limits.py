"""Size limits the request parser enforces, each answered with its own status."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits for one connection's parser.

    - ``max_request_line``: bytes in the request line, CRLF excluded (414).
    - ``max_header_size``: bytes in the whole head, request line and the blank
      line that ends it included (431), like waitress's max_request_header_size.
    - ``max_header_fields``: number of header field lines (431).
    - ``max_body_size``: body bytes, declared or de-chunked (413).
    - ``max_chunk_extension``: bytes of extensions on one chunk-size line (400).
    - ``max_trailer_size``: bytes in a chunked body's trailer section (400).
    """

    max_request_line: int = 8192
    max_header_size: int = 262144
    max_header_fields: int = 100
    max_body_size: int = 1073741824
    max_chunk_extension: int = 4096
    max_trailer_size: int = 8192


DEFAULT_LIMITS = Limits()
