"""Run bastion behind real nginx and HAProxy, each a subprocess on a loopback address.

Every hop connects from its own address so each one is visible to the app: the client from
127.0.0.2, HAProxy's backend connections from 127.0.0.3 (``source``), nginx's from 127.0.0.4
(``proxy_bind``). Everything listens on 127.0.0.1. ``stack`` starts the processes (configs in
``tmp_path``) and stops every one of them by PID; ``client`` / ``fetch`` talk to them from
127.0.0.2 and return what ``envapp`` saw.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bastion_testing import CliProcess, Subprocess, find_tool, free_port

HERE = Path(__file__).parent
CERT = HERE / "certs" / "localhost.pem"
KEY = HERE / "certs" / "localhost-key.pem"

LISTEN = "127.0.0.1"
CLIENT = "127.0.0.2"
HAPROXY_SOURCE = "127.0.0.3"
NGINX_SOURCE = "127.0.0.4"

START_TIMEOUT = 15.0
CLIENT_TIMEOUT = 10.0

NGINX_CONF = """\
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen {listen}:{port}{ssl};
        server_name _;
        {tls}
        location / {{
            proxy_pass http://{listen}:{upstream};
            proxy_bind {source};
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto {proto};
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
        }}
    }}
}}
"""

HAPROXY_CONF = """\
global
    maxconn 100
defaults
    mode {mode}
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend front
    bind {listen}:{port}{tls}
{http_rules}
    default_backend app
backend app
    source {source}
    server bastion {listen}:{backend}{send_proxy}
"""

HAPROXY_HTTP_RULES = """\
    option forwardfor
    http-request set-header X-Forwarded-Proto https if { ssl_fc }
    http-request set-header X-Forwarded-Proto http if ! { ssl_fc }"""


class Stack:
    """Starts bastion, nginx and HAProxy; ``close()`` stops all of them, newest first."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.processes: list[Subprocess] = []

    def _start(self, process: Subprocess, port: int) -> int:
        self.processes.append(process)
        process.wait_for_port(LISTEN, port, START_TIMEOUT)
        return port

    def bastion(self, *options: str, app: str = "envapp:app") -> int:
        """``python -m bastion --listen 127.0.0.1:PORT OPTIONS APP``; returns PORT."""
        port = free_port(LISTEN)
        process = CliProcess("--listen", f"{LISTEN}:{port}", *options, app, cwd=HERE)
        return self._start(process, port)

    def nginx(self, upstream: int, *, tls: bool = False, proto: str = "$scheme") -> int:
        """nginx with the seed's proxy headers plus X-Real-IP, in front of ``upstream``.

        ``proto`` is what it sends as X-Forwarded-Proto: its own ``$scheme``, or
        ``$http_x_forwarded_proto`` to pass on what a proxy in front of it said.
        """
        port = free_port(LISTEN)
        tmp = self.tmp_path / f"nginx-{port}"
        tmp.mkdir()
        conf = tmp / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                tmp=tmp,
                listen=LISTEN,
                port=port,
                ssl=" ssl" if tls else "",
                tls=f"ssl_certificate {CERT}; ssl_certificate_key {KEY};" if tls else "",
                upstream=upstream,
                source=NGINX_SOURCE,
                proto=proto,
            ),
            encoding="utf-8",
        )
        argv = [find_tool("nginx"), "-p", f"{tmp}/", "-c", str(conf)]
        return self._start(Subprocess(argv, cwd=tmp, env=os.environ, name="nginx"), port)

    def haproxy(
        self,
        backend: int,
        *,
        tls: bool = False,
        mode: str = "http",
        send_proxy: str = "",
        rules: str = "",
    ) -> int:
        """HAProxy in front of ``backend``.

        In http mode it adds X-Forwarded-For (``option forwardfor``) and sets
        X-Forwarded-Proto; ``send_proxy`` is "", "send-proxy" (v1) or "send-proxy-v2";
        ``rules`` are more frontend lines (e.g. ``http-request deny if ...``).
        """
        port = free_port(LISTEN)
        tmp = self.tmp_path / f"haproxy-{port}"
        tmp.mkdir()
        pem = tmp / "localhost.pem"
        pem.write_text(CERT.read_text() + KEY.read_text(), encoding="utf-8")
        conf = tmp / "haproxy.cfg"
        conf.write_text(
            HAPROXY_CONF.format(
                mode=mode,
                listen=LISTEN,
                port=port,
                tls=f" ssl crt {pem}" if tls else "",
                http_rules=(HAPROXY_HTTP_RULES if mode == "http" else "") + rules,
                source=HAPROXY_SOURCE,
                backend=backend,
                send_proxy=f" {send_proxy}" if send_proxy else "",
            ),
            encoding="utf-8",
        )
        argv = [find_tool("haproxy"), "-f", str(conf), "-db"]
        return self._start(Subprocess(argv, cwd=tmp, env=os.environ, name="haproxy"), port)

    def logs(self) -> str:
        return "\n".join(process.describe() for process in self.processes)

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """A :class:`Stack`; every process it started is stopped when the test ends."""
    started = Stack(tmp_path)
    try:
        yield started
    finally:
        started.close()


@dataclass
class Seen:
    """One response: its status and, for a 200 from envapp, the environ it reported."""

    status: int
    environ: dict[str, Any]
    body: str
    client_port: int


class Client:
    """One HTTP/1.1 connection from 127.0.0.2, over TLS if asked, reused for every ``get``."""

    def __init__(self, port: int, tls: bool) -> None:
        if tls:
            context = ssl.create_default_context(cafile=str(CERT))
            self.conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                LISTEN, port, timeout=CLIENT_TIMEOUT, source_address=(CLIENT, 0), context=context
            )
        else:
            self.conn = http.client.HTTPConnection(
                LISTEN, port, timeout=CLIENT_TIMEOUT, source_address=(CLIENT, 0)
            )
        self.conn.connect()
        assert self.conn.sock is not None
        self.port = self.conn.sock.getsockname()[1]

    def get(
        self, host: str = "www.example.test", headers: list[tuple[str, str]] | None = None
    ) -> Seen:
        """``GET /`` with exactly these headers (Host first; repeats allowed)."""
        self.conn.putrequest("GET", "/", skip_host=True, skip_accept_encoding=True)
        self.conn.putheader("Host", host)
        for name, value in headers or []:
            self.conn.putheader(name, value)
        self.conn.endheaders()
        response = self.conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        is_json = response.getheader("Content-Type") == "application/json"
        environ = json.loads(body) if response.status == 200 and is_json else {}
        return Seen(response.status, environ, body, self.port)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def client() -> Iterator[Callable[..., Client]]:
    """``client(port, tls=False)`` opens a :class:`Client`; all are closed after the test."""
    opened: list[Client] = []

    def open_client(port: int, tls: bool = False) -> Client:
        opened.append(Client(port, tls))
        return opened[-1]

    try:
        yield open_client
    finally:
        for each in opened:
            each.close()


@pytest.fixture
def fetch(client: Callable[..., Client]) -> Callable[..., Seen]:
    """``fetch(port, tls=False, host=..., headers=[...])``: one request on a new connection."""

    def fetch_once(port: int, tls: bool = False, **request: Any) -> Seen:
        return client(port, tls).get(**request)

    return fetch_once


def _raw_exchange(port: int, data: bytes, seconds: float = 3.0) -> bytes:
    """Send ``data`` from the client address; read until close or ``seconds`` pass."""
    sock = socket.create_connection((LISTEN, port), CLIENT_TIMEOUT, source_address=(CLIENT, 0))
    with sock:
        sock.sendall(data)
        deadline = time.monotonic() + seconds
        chunks = []
        while time.monotonic() < deadline:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.fixture
def raw_exchange() -> Callable[..., bytes]:
    """``raw_exchange(port, data, seconds=3.0)``: raw bytes in, everything answered out."""
    return _raw_exchange
