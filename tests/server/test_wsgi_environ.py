"""The environ a real request produces (PEP 3333), checked key by key and by wsgiref's validator."""

from __future__ import annotations

from wsgiref.validate import validator

import pytest

SEEN: list[dict] = []


def recording_app(environ, start_response):
    """Keep a copy of the environ and answer 200."""
    stream = environ["wsgi.input"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = stream.read(length) if length else b""
    SEEN.append({**environ, "_body": body})
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


@pytest.fixture
def seen():
    SEEN.clear()
    yield SEEN
    SEEN.clear()


def one_environ(server, raw: bytes, seen) -> dict:
    response = server.request(raw)
    assert response.status == 200, response.body
    assert len(seen) == 1
    return seen[0]


def test_every_pep3333_key_with_its_type(serve_app, seen):
    with serve_app(recording_app) as server:
        sock = server.connect()
        with sock:
            sock.sendall(
                b"POST /a/b?x=1&y=%20 HTTP/1.1\r\nHost: example.test:8080\r\n"
                b"Content-Type: text/plain\r\nContent-Length: 4\r\nX-Custom: one\r\n\r\nbody"
            )
            client_port = sock.getsockname()[1]
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
    env = seen[0]
    strings = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/a/b",
        "QUERY_STRING": "x=1&y=%20",
        "CONTENT_TYPE": "text/plain",
        "CONTENT_LENGTH": "4",
        "SERVER_PORT": str(server.port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "example.test:8080",
        "HTTP_X_CUSTOM": "one",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": str(client_port),
        "REQUEST_URI": "/a/b?x=1&y=%20",
    }
    for key, value in strings.items():
        assert type(env[key]) is str, key
        assert env[key] == value, key
    assert type(env["SERVER_NAME"]) is str and env["SERVER_NAME"]
    assert env["wsgi.version"] == (1, 0)
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.multithread"] is True
    assert env["wsgi.multiprocess"] is False
    assert env["wsgi.run_once"] is False
    assert env["wsgi.input_terminated"] is True
    assert callable(env["wsgi.input"].read)
    assert callable(env["wsgi.input"].readline)
    assert callable(env["wsgi.input"].readlines)
    assert callable(env["wsgi.errors"].write)
    assert callable(env["wsgi.errors"].flush)
    assert callable(env["wsgi.file_wrapper"])
    assert env["_body"] == b"body"
    assert "HTTP_CONTENT_TYPE" not in env
    assert "HTTP_CONTENT_LENGTH" not in env
    for key, value in env.items():
        if key.isupper():  # CGI keys are native strings (PEP 3333)
            assert type(value) is str, key


def test_validator_accepts_a_get_and_a_post(serve_app, seen):
    with serve_app(validator(recording_app)) as server, server.wire() as wire:
        wire.send(b"GET /v?q=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert wire.read_response().status == 200
        wire.send(b"POST /v HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        assert wire.read_response().status == 200
        wire.send(b"HEAD /v HTTP/1.1\r\nHost: x\r\n\r\n")
        assert wire.read_response("HEAD").status == 200
    assert [e["_body"] for e in seen] == [b"", b"abc", b""]


def test_validator_accepts_an_http10_request_without_host(serve_app, seen):
    with serve_app(validator(recording_app)) as server:
        response = server.request(b"GET / HTTP/1.0\r\n\r\n")
    assert response.status == 200
    assert seen[0]["SERVER_PROTOCOL"] == "HTTP/1.0"
    assert "HTTP_HOST" not in seen[0]


def test_request_uri_and_raw_uri_are_the_target_as_sent(serve_app, seen):
    target = b"/caf%C3%A9/x%2Fy?q=%41&r=a+b"
    with serve_app(recording_app) as server:
        env = one_environ(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n", seen)
    assert env["REQUEST_URI"] == target.decode()
    assert env["RAW_URI"] == target.decode()
    assert env["QUERY_STRING"] == "q=%41&r=a+b"


def test_path_info_is_percent_decoded_as_latin1(serve_app, seen):
    with serve_app(recording_app) as server:
        env = one_environ(server, b"GET /caf%C3%A9/x%2Fy%20z HTTP/1.1\r\nHost: x\r\n\r\n", seen)
    assert env["PATH_INFO"] == "/caf\u00c3\u00a9/x/y z"
    assert env["PATH_INFO"].encode("latin-1").decode("utf-8") == "/café/x/y z"


@pytest.mark.parametrize(
    "target, script_name, path_info",
    [
        (b"/app/x/y", "/app", "/x/y"),
        (b"/app", "/app", ""),
        (b"/app/", "/app", "/"),
    ],
)
def test_url_prefix_becomes_script_name(serve_app, seen, target, script_name, path_info):
    with serve_app(recording_app, url_prefix="/app") as server:
        env = one_environ(server, b"GET " + target + b"?k=v HTTP/1.1\r\nHost: x\r\n\r\n", seen)
    assert env["SCRIPT_NAME"] == script_name
    assert env["PATH_INFO"] == path_info
    assert env["QUERY_STRING"] == "k=v"


def test_header_fields_map_to_http_keys(serve_app, seen):
    raw = (
        b"GET / HTTP/1.1\r\nHost: x\r\n"
        b"Accept: text/html\r\nAccept: text/plain\r\n"
        b"X-Request-Id: 10.0.0.1\r\nX_Request_Id: 6.6.6.6\r\n"
        b"Proxy: http://evil.test\r\n"
        b"User-Agent: t\xe9st\r\n\r\n"
    )
    with serve_app(recording_app) as server:
        env = one_environ(server, raw, seen)
    assert env["HTTP_ACCEPT"] == "text/html, text/plain"
    assert env["HTTP_X_REQUEST_ID"] == "10.0.0.1", "underscore headers must not spoof"
    assert "HTTP_PROXY" not in env, "httpoxy"
    assert env["HTTP_USER_AGENT"] == "t\u00e9st"


def test_url_scheme_option(serve_app, seen):
    with serve_app(recording_app, url_scheme="https") as server:
        env = one_environ(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", seen)
    assert env["wsgi.url_scheme"] == "https"


def test_wsgi_input_of_a_bodyless_request_reads_empty(serve_app):
    results = []

    def app(environ, start_response):
        stream = environ["wsgi.input"]
        results.append((stream.read(), stream.read(10), stream.readline(), stream.readlines()))
        start_response("204 No Content", [])
        return []

    with serve_app(app) as server:
        response = server.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response.status == 204
    assert results == [(b"", b"", b"", [])]


def test_wsgi_input_line_reading(serve_app):
    results = []
    body = b"line one\nline two\n\nlast"

    def app(environ, start_response):
        stream = environ["wsgi.input"]
        results.append([stream.readline(), stream.readline(4), *list(stream)])
        start_response("200 OK", [("Content-Length", "0")])
        return []

    with serve_app(app) as server:
        server.request(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        )
    assert results == [[b"line one\n", b"line", b" two\n", b"\n", b"last"]]


def test_wsgi_errors_is_writable(serve_app, capsys):
    def app(environ, start_response):
        environ["wsgi.errors"].write("an error line\n")
        environ["wsgi.errors"].flush()
        start_response("200 OK", [("Content-Length", "0")])
        return []

    with serve_app(app) as server:
        assert server.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").status == 200
    assert "an error line" in capsys.readouterr().err


def test_environ_is_fresh_for_every_request(serve_app):
    at_entry = []

    def app(environ, start_response):
        at_entry.append((environ.get("app.mutated"), environ["PATH_INFO"]))
        environ["app.mutated"] = True
        environ["PATH_INFO"] = "/changed"
        start_response("200 OK", [("Content-Length", "0")])
        return []

    with serve_app(app) as server, server.wire() as wire:
        for _ in range(2):
            wire.send(b"GET /orig HTTP/1.1\r\nHost: x\r\n\r\n")
            assert wire.read_response().status == 200
    assert at_entry == [(None, "/orig"), (None, "/orig")]


def test_content_length_reaches_the_app_as_a_plain_number(serve_app, seen):
    """Issue 9 point 6: "0009" is 9 to the framing and "9" in CONTENT_LENGTH."""
    raw = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0009\r\n\r\n123456789"
    with serve_app(recording_app) as server:
        env = one_environ(server, raw, seen)
    assert env["CONTENT_LENGTH"] == "9"
    assert env["_body"] == b"123456789"


@pytest.mark.parametrize(
    "fields", [b"Content-Length: 9, 9", b"Content-Length: 9\r\nContent-Length: 9"]
)
def test_a_list_of_identical_content_lengths_is_400_and_closes(serve_app, seen, fields):
    """Issue 9 point 6: once reached the app as CONTENT_LENGTH "9, 9" (Django: 500)."""
    raw = b"POST / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n\r\n123456789"
    with serve_app(recording_app) as server, server.wire() as wire:
        wire.send(raw + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        response = wire.read_response()
        assert response.status == 400 and response.closes
        assert wire.closed_by_server()
    assert seen == []
