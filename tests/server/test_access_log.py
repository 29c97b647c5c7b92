"""access_log / access_log_format: one line per response, to stdout ("-") or a file."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

COMBINED = re.compile(
    r"^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "
    r'"(?P<request>[^"\\]*(?:\\.[^"\\]*)*)" (?P<status>\d{3}) (?P<size>\d+|-) '
    r'"(?P<referer>[^"\\]*(?:\\.[^"\\]*)*)" "(?P<agent>[^"\\]*(?:\\.[^"\\]*)*)"$'
)


def app(environ, start_response):
    if environ["PATH_INFO"] == "/missing":
        start_response("404 Not Found", [("Content-Length", "0")])
        return []
    start_response("200 OK", [("Content-Length", "5")])
    return [b"hello"]


def run_requests(server):
    with server.wire() as wire:
        wire.send(
            b"GET /page?q=1 HTTP/1.1\r\nHost: x\r\nReferer: http://ref.test/\r\n"
            b"User-Agent: agent/1.0\r\n\r\n"
        )
        assert wire.read_response().status == 200
        wire.send(b"HEAD /missing HTTP/1.1\r\nHost: x\r\n\r\n")
        assert wire.read_response("HEAD").status == 404
        wire.send(b'GET /q HTTP/1.1\r\nHost: x\r\nUser-Agent: evil" \xe9 agent\r\n\r\n')
        assert wire.read_response().status == 200


def check_combined(lines):
    assert len(lines) == 3
    matches = [COMBINED.match(line) for line in lines]
    assert all(matches), lines
    first, second, third = matches
    assert first["request"] == "GET /page?q=1 HTTP/1.1"
    assert first["status"] == "200"
    assert first["size"] == "5"
    assert first["referer"] == "http://ref.test/"
    assert first["agent"] == "agent/1.0"
    assert second["request"] == "HEAD /missing HTTP/1.1"
    assert second["status"] == "404"
    assert second["size"] == "-"
    assert second["referer"] == "-"
    assert third["agent"] == 'evil\\" \\xe9 agent', "client bytes must be escaped"
    assert lines[2].isascii()


def test_combined_to_stdout(serve_app, capsys):
    with serve_app(app, access_log="-", access_log_format="combined") as server:
        run_requests(server)
    lines = capsys.readouterr().out.splitlines()
    check_combined(lines)


def test_combined_to_a_file(serve_app, tmp_path):
    target = tmp_path / "access.log"
    with serve_app(app, access_log=str(target), access_log_format="combined") as server:
        run_requests(server)
    check_combined(target.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("to_file", [True, False], ids=["file", "stdout"])
def test_json_lines(serve_app, tmp_path, capsys, to_file):
    target = tmp_path / "access.jsonl"
    where = str(target) if to_file else "-"
    with serve_app(app, access_log=where, access_log_format="json") as server:
        run_requests(server)
    text = target.read_text(encoding="utf-8") if to_file else capsys.readouterr().out
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["status"] for r in records] == [200, 404, 200]
    first = records[0]
    assert first["remote_addr"] == "127.0.0.1"
    assert first["method"] == "GET"
    assert first["target"] == "/page?q=1"
    assert first["protocol"] == "HTTP/1.1"
    assert first["bytes"] == 5
    assert first["referer"] == "http://ref.test/"
    assert first["user_agent"] == "agent/1.0"
    assert isinstance(first["time"], (int, float))
    assert records[1]["bytes"] == 0
    assert records[2]["user_agent"] == 'evil" \u00e9 agent'
    assert text.isascii()


def test_access_log_is_off_by_default(serve_app, capsys):
    with serve_app(app) as server:
        run_requests(server)
    assert capsys.readouterr().out == ""


def test_protocol_errors_are_logged_too(serve_app, tmp_path):
    target = tmp_path / "access.log"
    with serve_app(app, access_log=str(target), access_log_format="json") as server:
        assert server.request(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n").status == 400
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in records] == [400]


def test_application_errors_are_logged_as_500(serve_app, tmp_path):
    def failing(environ, start_response):
        raise RuntimeError("boom")

    target = tmp_path / "access.log"
    with serve_app(failing, access_log=str(target), access_log_format="json") as server:
        assert server.request(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n").status == 500
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [(r["status"], r["target"]) for r in records] == [(500, "/x")]


def test_the_client_address_is_the_one_trusted_proxy_headers_give(serve_app, tmp_path):
    target = tmp_path / "access.log"
    options = {"trusted_proxy": "127.0.0.1", "trusted_proxy_headers": "x-forwarded-for"}
    with serve_app(app, access_log=str(target), **options) as server:
        server.request(b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n")
    assert target.read_text(encoding="utf-8").startswith("203.0.113.9 - - [")


# -- the status and body bytes actually sent, on every path that answers -------------------

FORMATS = pytest.mark.parametrize("fmt", ["combined", "json"])


def logged(path, fmt):
    """(status, body bytes) of each line of the log at ``path``, in either format."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if fmt == "json":
            record = json.loads(line)
            entries.append((record["status"], record["bytes"]))
        else:
            match = COMBINED.match(line)
            assert match, line
            entries.append(
                (int(match["status"]), 0 if match["size"] == "-" else int(match["size"]))
            )
    return entries


def serve_logged(serve_app, tmp_path, fmt, wsgi_app, **options):
    target = tmp_path / "access.log"
    return target, serve_app(wsgi_app, access_log=str(target), access_log_format=fmt, **options)


@FORMATS
def test_a_malformed_proxy_header_logs_400_and_its_body(serve_app, tmp_path, fmt):
    options = {"trusted_proxy": "127.0.0.1", "trusted_proxy_headers": "x-forwarded-for"}
    target, serving = serve_logged(serve_app, tmp_path, fmt, app, **options)
    with serving as server:
        response = server.request(
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: not-an-ip\r\n\r\n"
        )
    assert response.status == 400
    assert response.body == b"400 Bad Request\n"
    assert logged(target, fmt) == [(400, 16)]


@FORMATS
@pytest.mark.parametrize(("host", "status"), [("evil.test", 400), ("www.example.com", 301)])
def test_host_policy_answers_log_their_status_and_body(serve_app, tmp_path, fmt, host, status):
    target, serving = serve_logged(serve_app, tmp_path, fmt, app, allowed_hosts="example.com")
    with serving as server:
        response = server.request(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    assert response.status == status
    assert logged(target, fmt) == [(status, len(response.body))]


@FORMATS
def test_a_request_timeout_logs_504_and_its_body(serve_app, tmp_path, fmt):
    def loop(environ, start_response):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            sum(range(100))
        start_response("200 OK", [])
        return [b"late"]

    options = {"request_timeout": 0.5, "request_timeout_interrupt": True}
    target, serving = serve_logged(serve_app, tmp_path, fmt, loop, **options)
    with serving as server:
        response = server.request(b"GET /loop HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response.status == 504
    assert logged(target, fmt) == [(504, len(b"504 Gateway Timeout\n"))]


@FORMATS
def test_an_application_error_logs_500_and_its_body(serve_app, tmp_path, fmt):
    def failing(environ, start_response):
        raise RuntimeError("boom")

    target, serving = serve_logged(serve_app, tmp_path, fmt, failing)
    with serving as server:
        response = server.request(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response.status == 500
    assert logged(target, fmt) == [(500, len(b"500 Internal Server Error\n"))]


@FORMATS
def test_a_wsgi_contract_error_logs_500_and_its_body(serve_app, tmp_path, fmt):
    def not_bytes(environ, start_response):
        start_response("200 OK", [])
        return ["text, not bytes"]

    target, serving = serve_logged(serve_app, tmp_path, fmt, not_bytes)
    with serving as server:
        response = server.request(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response.status == 500
    assert logged(target, fmt) == [(500, len(response.body))]


PARSER_REFUSALS = [
    (400, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n"),
    (413, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n"),
    (414, b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
    (431, b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 9000 + b"\r\n\r\n"),
    (501, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: x-zip, chunked\r\n\r\n"),
    (505, b"GET / HTTP/3.7\r\nHost: x\r\n\r\n"),
]


@FORMATS
@pytest.mark.parametrize(("status", "raw"), PARSER_REFUSALS, ids=[s for s, _ in PARSER_REFUSALS])
def test_parser_refusals_log_their_body_bytes_not_the_head(serve_app, tmp_path, fmt, status, raw):
    options = {
        "max_request_line": 4096,
        "max_request_header_size": 8192,
        "max_request_body_size": 1_000_000,
    }
    target, serving = serve_logged(serve_app, tmp_path, fmt, app, **options)
    with serving as server:
        response = server.request(raw)
    assert response.status == status
    assert logged(target, fmt) == [(status, len(response.body))]


@FORMATS
def test_a_slow_head_logs_408_and_its_body(serve_app, tmp_path, fmt):
    options = {"header_timeout": 0.3, "header_min_rate": 0}
    target, serving = serve_logged(serve_app, tmp_path, fmt, app, **options)
    with serving as server, server.wire() as wire:
        wire.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
        data = wire.read_to_close(timeout=4)
    assert data.startswith(b"HTTP/1.1 408 ")
    assert logged(target, fmt) == [(408, len(b"408 Request Timeout\n"))]


@FORMATS
def test_load_shedding_logs_503_and_its_body(serve_app, tmp_path, fmt):
    started, release = threading.Event(), threading.Event()

    def blocking(environ, start_response):
        if environ["PATH_INFO"] == "/block":
            started.set()
            release.wait(5)
        return app(environ, start_response)

    options = {"threads": 1, "max_queued_requests": 1, "retry_after": 3}
    target, serving = serve_logged(serve_app, tmp_path, fmt, blocking, **options)
    with serving as server:
        busy, queued = server.wire(), server.wire()
        try:
            busy.send(b"GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
            assert started.wait(5)
            queued.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert queued.nothing_within(0.2)
            with server.wire() as shed:
                shed.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                assert shed.read_response().status == 503
        finally:
            release.set()
            busy.close()
            queued.close()
    assert (503, len(b"503 Service Unavailable\n")) in logged(target, fmt)
    assert all(size != 0 or status != 503 for status, size in logged(target, fmt))


@FORMATS
def test_the_per_ip_limit_logs_503_and_its_body(serve_app, tmp_path, fmt):
    target, serving = serve_logged(serve_app, tmp_path, fmt, app, max_connections_per_ip=1)
    with serving as server, server.wire() as first:
        first.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert first.read_response().status == 200
        with server.wire() as second:
            assert second.read_response().status == 503
    assert logged(target, fmt) == [(200, 5), (503, len(b"503 Service Unavailable\n"))]
