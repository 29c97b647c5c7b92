"""TrustedHostMiddleware as plain WSGI: the app is called or not, 400s and redirects, logs."""

from __future__ import annotations

import logging
from wsgiref.validate import validator

import pytest

from bastion.trusted_hosts import BAD_HOST, BAD_HOST_BODY, HostPolicy, TrustedHostMiddleware

LOGGER = "bastion.trusted_hosts"


class App:
    """A WSGI app that records its calls and answers 200 with the Host it saw."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        body = environ.get("HTTP_HOST", "").encode("latin-1")
        start_response(
            "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        )
        return [body]


@pytest.fixture
def app() -> App:
    return App()


def wrapped(app: App, *args, **kwargs):
    """The middleware between two wsgiref validators, so both of its sides are checked."""
    return validator(TrustedHostMiddleware(validator(app), *args, **kwargs))


def test_allowed_host_reaches_the_app(app, make_environ, call):
    result = call(wrapped(app, "example.com"), make_environ("example.com:8080"))
    assert result.status == "200 OK"
    assert result.body == b"example.com:8080"
    assert app.calls == 1


def test_refused_host_gets_fixed_400_and_app_not_called(app, make_environ, call, caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        result = call(wrapped(app, "example.com"), make_environ("evil.com"))
    assert app.calls == 0
    assert result.status == "400 Bad Request"
    assert result.body == b"Invalid Host header\n" == BAD_HOST_BODY
    assert result.header("Content-Type").startswith("text/plain")
    assert result.header("Content-Length") == str(len(result.body))
    assert [r.levelno for r in caplog.records if r.name == LOGGER] == [logging.WARNING]
    assert "'evil.com'" in caplog.records[0].getMessage()
    assert "192.0.2.7" in caplog.records[0].getMessage()


def test_head_refusal_has_headers_but_no_body(app, make_environ, call):
    result = call(wrapped(app, "example.com"), make_environ("evil.com", method="HEAD"))
    assert result.status == "400 Bad Request"
    assert result.header("Content-Length") == str(len(BAD_HOST_BODY))
    assert result.body == b""
    assert app.calls == 0


@pytest.mark.parametrize(
    "host",
    ["evil.com", "<script>alert(1)</script>", "evil.com:1", "x" * 5000, "\u00e9vil", ""],
)
def test_400_never_echoes_the_host(app, make_environ, call, host):
    result = call(TrustedHostMiddleware(app, "example.com"), make_environ(host))
    assert result.body == BAD_HOST_BODY
    assert list(BAD_HOST.headers) == result.headers
    assert all(host not in value for _, value in result.headers if host)


@pytest.mark.parametrize(
    "host",
    [
        "evil.com\r\n2025-01-01 WARNING forged line",
        "evil.com\nINFO admin logged in",
        "\x1b[2J\x1b[31mred",
        "evil\u2028.com",
        "evil\x00.com",
        "ev\u0085il.com",
    ],
)
def test_log_line_is_escaped(app, make_environ, call, caplog, host):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        call(TrustedHostMiddleware(app, "example.com"), make_environ(host))
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    message = record.getMessage()
    assert message.isascii()
    assert message.isprintable()
    assert "\\" in message


def test_long_host_is_truncated_in_the_log(app, make_environ, call, caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        call(TrustedHostMiddleware(app, "example.com"), make_environ("a" * 10_000))
    (record,) = caplog.records
    assert len(record.getMessage()) < 400
    assert record.getMessage().count("a") >= 200


def test_custom_logger_is_used(app, make_environ, call, caplog):
    custom = logging.getLogger("tests.trusted_hosts.custom")
    with caplog.at_level(logging.WARNING):
        call(TrustedHostMiddleware(app, "example.com", logger=custom), make_environ("evil.com"))
    assert [r.name for r in caplog.records] == ["tests.trusted_hosts.custom"]


def test_forged_x_forwarded_host_is_ignored(app, make_environ, call):
    middleware = wrapped(app, "example.com")
    forged = make_environ(
        "evil.com", HTTP_X_FORWARDED_HOST="example.com", HTTP_X_HOST="example.com"
    )
    assert call(middleware, forged).status == "400 Bad Request"
    assert app.calls == 0
    honest = make_environ("example.com", HTTP_X_FORWARDED_HOST="evil.com")
    result = call(middleware, honest)
    assert result.status == "200 OK"
    assert result.body == b"example.com"


@pytest.mark.parametrize(
    ("method", "status"), [("GET", "301 Moved Permanently"), ("POST", "308 Permanent Redirect")]
)
def test_www_redirect_through_the_middleware(app, make_environ, call, caplog, method, status):
    environ = make_environ(
        "www.example.com:8080", method=method, path="/a", QUERY_STRING="b=c", scheme="https"
    )
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        result = call(wrapped(app, "example.com"), environ)
    assert app.calls == 0
    assert result.status == status
    assert result.header("Location") == "https://example.com:8080/a?b=c"
    assert result.body == b""
    assert caplog.records == []


def test_exempt_path_reaches_the_app_whatever_the_host(app, make_environ, call):
    middleware = wrapped(app, "example.com", exempt_paths="/health")
    assert call(middleware, make_environ("10.1.2.3:8080", path="/health")).status == "200 OK"
    assert call(middleware, make_environ("10.1.2.3:8080", path="/")).status == "400 Bad Request"
    assert app.calls == 1


def test_ports_through_the_middleware(app, make_environ, call):
    middleware = wrapped(app, "example.com", allowed_ports="443")
    assert call(middleware, make_environ("example.com", scheme="https")).status == "200 OK"
    assert call(middleware, make_environ("example.com", scheme="http")).status.startswith("400")


def test_server_and_middleware_share_one_400(make_environ):
    answer = HostPolicy("example.com").check(make_environ("evil.com"))
    assert answer is BAD_HOST
    assert answer.status == "400 Bad Request"
    assert dict(answer.headers)["Content-Length"] == str(len(answer.body))
