"""One request on a worker thread: the policies, the application and its response (PEP 3333)."""

from __future__ import annotations

import logging
import os
import select
import traceback
from typing import TYPE_CHECKING, Any

from ..errors import RequestTimeout
from ..hosts.policy import BAD_HOST, HostPolicy, HostResponse
from ..http import (
    CHUNKED,
    CLOSE_DELIMITED,
    LAST_CHUNK,
    LENGTH,
    NO_BODY,
    Request,
    ResponseError,
    ResponseHead,
    check_response,
    chunk,
    error_page,
    render_head,
)
from ..proxy.policy import KNOWN_PROXY_HEADERS, PEER_KIND_KEY, MalformedProxyHeader, ProxyPolicy
from ..wsgi.filewrapper import FileWrapper
from ..wsgi.input import EMPTY_INPUT, ClientDisconnected

if TYPE_CHECKING:
    from .access_log import AccessLog
    from .connection import Connection
    from .watchdog import Watchdog

logger = logging.getLogger("bastion.server")

# Files go out with os.sendfile where it exists (Connection.send_file); else iterated.
HAS_SENDFILE = hasattr(os, "sendfile") and hasattr(select, "poll")


class AppOutputError(Exception):
    """The application broke the WSGI contract while producing its body."""


class Exchange:
    """The response half of one request: start_response, write() and framing."""

    __slots__ = (
        "client",
        "conn",
        "framing",
        "head",
        "head_sent",
        "keep_alive",
        "remaining",
        "request",
        "sent_body",
        "status_code",
    )

    def __init__(self, conn: Connection, request: Request) -> None:
        self.conn = conn
        self.request = request
        self.head: ResponseHead | None = None
        self.head_sent = False
        self.keep_alive = request.keep_alive
        self.framing = NO_BODY
        self.remaining: int | None = None
        self.sent_body = 0
        self.status_code = 0
        self.client = conn.remote_addr  # REMOTE_ADDR after proxy processing, for the log

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        if exc_info is not None:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.head is not None:
            raise AssertionError("start_response called a second time without exc_info")
        self.head = check_response(status, headers, self.conn.settings.caches)
        return self.write

    def _send_head(self, first: bytes, computed_length: int | None = None) -> None:
        """Frame and send the head, with ``first`` body bytes in the same send."""
        head = self.head
        if head is None:
            raise AssertionError("the application wrote body data before start_response")
        request = self.request
        settings = self.conn.settings
        data, framing, keep_alive = render_head(
            head,
            request.method,
            request.version,
            self.keep_alive,
            settings.date.format(settings.clock()),
            settings.ident,
            computed_length,
        )
        self.head_sent = True
        self.framing = framing
        self.keep_alive = keep_alive
        self.status_code = head.code
        if framing == LENGTH:
            self.remaining = (
                head.content_length if head.content_length is not None else computed_length
            )
        if first and framing != NO_BODY:
            first = self._frame(first)
            if len(first) < 65536:
                self.conn.send(data + first)
            else:
                self.conn.send_two(data, first)
        else:
            self.conn.send(data)

    def _frame(self, data: bytes) -> bytes:
        framing = self.framing
        if framing == CHUNKED:
            return chunk(data)
        if framing == LENGTH:
            remaining = self.remaining
            if len(data) > remaining:  # type: ignore[operator]
                # More than the declared Content-Length: cut and close.
                data = data[:remaining]
                self.keep_alive = False
            self.remaining = remaining - len(data)  # type: ignore[operator]
        self.sent_body += len(data)
        return data

    def write(self, data: bytes) -> None:
        """PEP 3333 write(): send ``data`` now."""
        if type(data) is not bytes and not isinstance(data, bytes):
            raise AppOutputError("the application wrote a non-bytes body chunk")
        if not self.head_sent:
            self._send_head(data)
        elif data and self.framing != NO_BODY:
            self.conn.send(self._frame(data))

    def finish(self) -> None:
        """End the body: last chunk, or close when it fell short of Content-Length."""
        if not self.head_sent:
            self._send_head(b"", 0)
        if self.framing == CHUNKED:
            self.conn.send(LAST_CHUNK)
        elif self.framing == LENGTH and self.remaining:
            logger.warning(
                "application sent %d bytes fewer than its Content-Length", self.remaining
            )
            self.keep_alive = False
        elif self.framing == CLOSE_DELIMITED:
            self.keep_alive = False


class RequestHandler:
    """Runs each request on a worker thread: the policies, the application, the response.

    It owns what a request meets on its way to the application and back: the trusted-proxy
    and trusted-host policies, the application, the watchdog and the access log.
    """

    __slots__ = (
        "access_log",
        "app",
        "expose_tracebacks",
        "host_policy",
        "proxy_policy",
        "watchdog",
    )

    def __init__(
        self,
        app: Any,
        *,
        proxy_policy: ProxyPolicy | None = None,
        host_policy: HostPolicy | None = None,
        watchdog: Watchdog | None = None,
        access_log: AccessLog | None = None,
        expose_tracebacks: bool = False,
    ) -> None:
        self.app = app
        self.proxy_policy = proxy_policy
        self.host_policy = host_policy
        self.watchdog = watchdog
        self.access_log = access_log
        self.expose_tracebacks = expose_tracebacks

    def run(self, conn: Connection, request: Request, body: Any, body_length: int) -> None:
        """Worker entry point: serve ``request`` on ``conn``, then hand the connection back."""
        exchange = Exchange(conn, request)
        watchdog = self.watchdog
        try:
            if watchdog is None:
                self._serve(conn, request, body, body_length, exchange)
            else:
                watchdog.begin(request.method, request.path)
                try:
                    self._serve(conn, request, body, body_length, exchange)
                finally:
                    watchdog.end()
        except (ClientDisconnected, RequestTimeout):
            # RequestTimeout here arrived after the response was under way: the
            # connection's state is unknown, so it closes.
            conn.keep_alive = False
            conn.abort_from_worker()
            return
        except BaseException:
            # Nothing may leave a connection owned by no one: close it, then let the
            # worker log what went wrong.
            conn.keep_alive = False
            conn.abort_from_worker()
            raise
        finally:
            if body is not EMPTY_INPUT:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        if self.access_log is not None:
            self.access_log.log(conn, request, exchange)
        conn.hand_back()

    def refused(self, conn: Connection, status: int, size: int) -> None:
        """Log a response the connection gave itself (a refusal on the event loop)."""
        if self.access_log is not None:
            self.access_log.log_refused(conn, status, size)

    def _serve(
        self, conn: Connection, request: Request, body: Any, body_length: int, exchange: Exchange
    ) -> None:
        """Run the app for one request and answer it; errors become 500s or a closed connection."""
        environ = conn.template.build(
            request, conn.remote_addr, conn.remote_port, body, body_length
        )
        if conn.peer is not None:
            environ[PEER_KIND_KEY] = conn.peer
        policy = self.proxy_policy
        # Most requests carry no proxy header at all: the few header names are cheaper to
        # look through than the environ.
        if policy is not None and not KNOWN_PROXY_HEADERS.isdisjoint(request.headers):
            try:
                policy.apply(environ)
            except MalformedProxyHeader as error:
                # Logged without the value: it is the client's and may be crafted for logs.
                logger.warning(
                    "malformed %s header from %s: %s", error.header, conn.remote_addr, error.reason
                )
                conn.keep_alive = False
                _send_error(conn, exchange, 400)
                return
            exchange.client = environ["REMOTE_ADDR"]
        app = self.app
        hosts = self.host_policy
        if hosts is not None:
            refusal = hosts.check(environ)
            if refusal is not None:
                app = _answer(refusal)
                if refusal is BAD_HOST:
                    exchange.keep_alive = False
        try:
            _call_app(app, environ, exchange)
            conn.keep_alive = exchange.keep_alive
        except ClientDisconnected:
            raise
        except RequestTimeout:
            conn.keep_alive = False
            if not exchange.head_sent:
                _send_error(conn, exchange, 504)
        except Exception as error:
            conn.keep_alive = False
            if isinstance(error, (ResponseError, AppOutputError, AssertionError)):
                logger.exception(
                    "application broke the WSGI contract on %s %s", request.method, request.path
                )
            else:
                logger.exception("application error on %s %s", request.method, request.path)
            if not exchange.head_sent:
                detail = traceback.format_exc() if self.expose_tracebacks else None
                _send_error(conn, exchange, 500, detail)


def _answer(response: HostResponse) -> Any:
    """A WSGI app that answers with ``response`` (a refusal or redirect), whatever the request."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(response.status, list(response.headers))
        return [response.body]

    return app


def _call_app(app: Any, environ: dict[str, Any], exchange: Exchange) -> None:
    result = app(environ, exchange.start_response)
    try:
        if type(result) is FileWrapper and HAS_SENDFILE and exchange.head is not None:
            params = result.sendfile_params()
            if params is not None and _send_file(exchange, result, params):
                return
        if type(result) is list and len(result) == 1:
            data = result[0]
            if type(data) is not bytes and not isinstance(data, bytes):
                raise AppOutputError("the application returned a non-bytes body chunk")
            if not exchange.head_sent:
                exchange._send_head(data, len(data))
                if exchange.framing == LENGTH and not exchange.remaining:
                    return  # the whole body went out with the head: nothing to finish
            else:
                exchange.write(data)
        else:
            write = exchange.write
            for data in result:
                if data:
                    write(data)
                elif type(data) is not bytes and not isinstance(data, bytes):
                    raise AppOutputError("the application returned a non-bytes body chunk")
        exchange.finish()
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def _send_file(exchange: Exchange, wrapper: FileWrapper, params: tuple[int, int, Any]) -> bool:
    """Send a real file with sendfile; False to fall back to iterating."""
    _, offset, count = params
    if count is None:
        return False
    head = exchange.head
    length = head.content_length if head.content_length is not None else count  # type: ignore[union-attr]
    exchange._send_head(b"", length)
    if exchange.framing != LENGTH:
        if exchange.framing == NO_BODY:
            exchange.finish()
            return True
        return False
    sent = exchange.conn.send_file(wrapper.filelike, offset, min(count, length))
    exchange.remaining = length - sent
    exchange.sent_body += sent
    exchange.finish()
    return True


def _send_error(
    conn: Connection, exchange: Exchange, status: int, detail: str | None = None
) -> None:
    """Send the fixed error page for ``status`` instead of a response not yet begun.

    The exchange records what went out, as for the application's responses: the access
    log reads its status and body bytes.
    """
    settings = conn.settings
    date = settings.date.format(settings.clock())
    head, body = error_page(status, date, settings.ident, detail=detail)
    exchange.status_code = status
    exchange.sent_body = len(body)
    conn.send(head + body)
