"""build_environ (EnvironTemplate): PEP 3333 keys from a parsed request, with no I/O."""

from __future__ import annotations

import importlib.util
import io
import sys

import pytest
from bastion_testing import imported_modules

from bastion.http import Caches, Request, RequestParser
from bastion.wsgi.environ import (
    EnvironTemplate,
    NoAuthorizationTemplate,
    decode_path,
    environ_key,
)

IO_MODULES = {"socket", "select", "selectors", "threading", "ssl", "time", "asyncio"}


class FileWrapperStandIn:
    """Any callable serves as wsgi.file_wrapper for the template."""


def parse(raw: bytes) -> Request:
    parser = RequestParser()
    parser.feed(raw)
    event = parser.next_event()
    assert isinstance(event, Request)
    return event


OPTIONS = {
    "server_name": "srv.test",
    "server_port": "8080",
    "url_scheme": "http",
    "url_prefix": "",
    "server_software": "bastion",
    "file_wrapper": FileWrapperStandIn,
}


def template(**overrides) -> EnvironTemplate:
    return EnvironTemplate(**{**OPTIONS, **overrides})


def build(raw: bytes, body=None, **overrides) -> dict:
    body = io.BytesIO(b"") if body is None else body
    length = len(body.getbuffer())
    return template(**overrides).build(parse(raw), "10.1.2.3", "50123", body, length)


def test_all_required_keys_and_types():
    body = io.BytesIO(b"abc")
    env = build(
        b"POST /p/q?x=1 HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n"
        b"Content-Length: 3\r\n\r\n",
        body,
    )
    assert env["REQUEST_METHOD"] == "POST"
    assert env["SCRIPT_NAME"] == ""
    assert env["PATH_INFO"] == "/p/q"
    assert env["QUERY_STRING"] == "x=1"
    assert env["CONTENT_TYPE"] == "text/plain"
    assert env["CONTENT_LENGTH"] == "3"
    assert env["SERVER_NAME"] == "srv.test"
    assert env["SERVER_PORT"] == "8080"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["SERVER_SOFTWARE"] == "bastion"
    assert env["REMOTE_ADDR"] == "10.1.2.3"
    assert env["REMOTE_HOST"] == "10.1.2.3"
    assert env["REMOTE_PORT"] == "50123"
    assert env["REQUEST_URI"] == env["RAW_URI"] == "/p/q?x=1"
    assert env["HTTP_HOST"] == "h"
    assert env["wsgi.version"] == (1, 0)
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.input"] is body
    assert env["wsgi.errors"] is sys.stderr
    assert env["wsgi.multithread"] is True
    assert env["wsgi.multiprocess"] is False
    assert env["wsgi.run_once"] is False
    assert env["wsgi.input_terminated"] is True
    assert env["wsgi.file_wrapper"] is FileWrapperStandIn
    for key, value in env.items():
        if key.isupper():
            assert type(value) is str, key


def test_no_query_gives_an_empty_query_string():
    env = build(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
    assert env["QUERY_STRING"] == ""
    assert "CONTENT_TYPE" not in env or env["CONTENT_TYPE"] == ""
    assert "CONTENT_LENGTH" not in env or env["CONTENT_LENGTH"] in ("", "0")


def test_http10_protocol():
    assert build(b"GET / HTTP/1.0\r\n\r\n")["SERVER_PROTOCOL"] == "HTTP/1.0"


def test_errors_stream_can_be_given():
    errors = io.StringIO()
    env = template(errors=errors).build(
        parse(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"), "1.2.3.4", "1", None, 0
    )
    assert env["wsgi.errors"] is errors


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/plain", "/plain"),
        ("/a%20b", "/a b"),
        ("/caf%C3%A9", "/caf\u00c3\u00a9"),
        ("/x%2Fy", "/x/y"),
        ("/%25", "/%"),
        ("/%zz%4", "/%zz%4"),
        ("/%ff%00", "/\u00ff\u0000"),
    ],
)
def test_decode_path_is_latin1_of_the_decoded_bytes(path, expected):
    assert decode_path(path) == expected


def test_path_info_and_raw_uri_differ_only_by_decoding():
    env = build(b"GET /caf%C3%A9?q=%C3%A9 HTTP/1.1\r\nHost: h\r\n\r\n")
    assert env["PATH_INFO"] == "/caf\u00c3\u00a9"
    assert env["QUERY_STRING"] == "q=%C3%A9"
    assert env["REQUEST_URI"] == "/caf%C3%A9?q=%C3%A9"


def test_absolute_form_target():
    env = build(b"GET http://example.test:81/p%20q?x=1 HTTP/1.1\r\nHost: other\r\n\r\n")
    assert env["PATH_INFO"] == "/p q"
    assert env["QUERY_STRING"] == "x=1"
    assert env["HTTP_HOST"] == "example.test:81"  # RFC 9112 3.2.2: the target wins
    assert env["REQUEST_URI"] == "http://example.test:81/p%20q?x=1"


@pytest.mark.parametrize(
    "target, script_name, path_info",
    [
        (b"/app", "/app", ""),
        (b"/app/", "/app", "/"),
        (b"/app/x/y", "/app", "/x/y"),
        (b"/app%2Fx", "/app", "/x"),
    ],
)
def test_url_prefix_moves_to_script_name(target, script_name, path_info):
    env = build(b"GET " + target + b" HTTP/1.1\r\nHost: h\r\n\r\n", url_prefix="/app")
    assert env["SCRIPT_NAME"] == script_name
    assert env["PATH_INFO"] == path_info


def test_url_prefix_is_not_cut_from_a_longer_segment():
    env = build(b"GET /application HTTP/1.1\r\nHost: h\r\n\r\n", url_prefix="/app")
    assert env["PATH_INFO"] == "/application"


@pytest.mark.parametrize(
    "name, key",
    [
        ("content-type", "CONTENT_TYPE"),
        ("content-length", "CONTENT_LENGTH"),
        ("x-forwarded-for", "HTTP_X_FORWARDED_FOR"),
        ("accept", "HTTP_ACCEPT"),
        ("x_forwarded_for", None),
        ("proxy", None),
    ],
)
def test_environ_key(name, key):
    assert environ_key(name) == key


def test_headers_in_the_environ():
    env = build(
        b"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nX-A: 2\r\nX_B: spoof\r\nX-B: real\r\n"
        b"Proxy: http://evil\r\nX-Empty:\r\n\r\n"
    )
    assert env["HTTP_X_A"] == "1, 2"
    assert env["HTTP_X_B"] == "real"
    assert "HTTP_PROXY" not in env
    assert env["HTTP_X_EMPTY"] == ""


CREDENTIALS = (
    b"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic YTpi\r\n"
    b"Proxy-Authorization: Basic Yzpk\r\nX-A: 1\r\n\r\n"
)


def test_credentials_reach_the_app_by_default():
    env = build(CREDENTIALS)
    assert env["HTTP_AUTHORIZATION"] == "Basic YTpi"
    assert env["HTTP_PROXY_AUTHORIZATION"] == "Basic Yzpk"


def test_a_template_without_authorization_drops_both_credentials_only():
    """pass_authorization off (mod_wsgi's WSGIPassAuthorization Off)."""
    hiding = NoAuthorizationTemplate(**OPTIONS)
    env = hiding.build(parse(CREDENTIALS), "10.1.2.3", "50123", io.BytesIO(b""), 0)
    assert "HTTP_AUTHORIZATION" not in env
    assert "HTTP_PROXY_AUTHORIZATION" not in env
    assert env["HTTP_X_A"] == "1" and env["HTTP_HOST"] == "h"
    assert {k: v for k, v in env.items() if k != "wsgi.input"} == {
        k: v
        for k, v in build(CREDENTIALS).items()
        if k not in ("wsgi.input", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION")
    }


def test_each_build_is_a_new_dict_and_leaves_the_template_alone():
    tmpl = template()
    request = parse(b"GET /one HTTP/1.1\r\nHost: h\r\n\r\n")
    first = tmpl.build(request, "1.1.1.1", "1", None, 0)
    first["PATH_INFO"] = "/mutated"
    first["extra"] = 1
    second = tmpl.build(request, "1.1.1.1", "1", None, 0)
    assert second is not first
    assert second["PATH_INFO"] == "/one"
    assert "extra" not in second
    assert "PATH_INFO" not in tmpl.base


def test_a_buffered_chunked_body_is_given_as_a_sized_one():
    """As under waitress: CONTENT_LENGTH is the decoded length, no Transfer-Encoding.

    The request itself is left as parsed: a remembered head is shared.
    """
    request = parse(
        b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    )
    env = template().build(request, "1.2.3.4", "1", io.BytesIO(b"hello"), 5)
    assert env["CONTENT_LENGTH"] == "5"
    assert "HTTP_TRANSFER_ENCODING" not in env
    assert request.headers == {"host": "h", "transfer-encoding": "chunked"}
    empty = template().build(request, "1.2.3.4", "1", io.BytesIO(b""), 0)
    assert empty["CONTENT_LENGTH"] == "0"


def test_templates_share_the_environ_keys_of_the_caches_they_are_given():
    caches = Caches()
    first, second = template(caches=caches), template(caches=caches)
    assert first.environ_keys is second.environ_keys is caches.environ_keys
    assert first.with_url_scheme("https").environ_keys is caches.environ_keys
    first.build(parse(b"GET / HTTP/1.1\r\nHost: h\r\nX-Seen: 1\r\n\r\n"), "1", "1", None, 0)
    assert caches.environ_keys["x-seen"] == "HTTP_X_SEEN"
    assert template().environ_keys is not caches.environ_keys  # a private one


def _bastion_imports(module_name: str, seen: set[str]) -> set[str]:
    """Top-level modules imported by ``module_name`` and the bastion modules it imports."""
    if module_name in seen:
        return set()
    seen.add(module_name)
    spec = importlib.util.find_spec(module_name)
    assert spec is not None and spec.origin is not None
    names = imported_modules(spec.origin, spec.parent)
    found = {name.partition(".")[0] for name in names}
    for name in sorted(names):
        if name.startswith("bastion"):
            found |= _bastion_imports(name, seen)
    return found


def test_environ_module_does_no_io():
    imported = _bastion_imports("bastion.wsgi.environ", set())
    assert "bastion" in imported  # the walk did follow bastion's own modules
    assert not (imported & IO_MODULES)
