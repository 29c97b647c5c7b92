"""access_log / access_log_format: one line per response, to stdout ("-") or a file."""

from __future__ import annotations

import json
import re

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
