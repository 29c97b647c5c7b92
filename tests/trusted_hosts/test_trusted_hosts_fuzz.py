"""Properties: arbitrary Host values and option strings never raise anything unexpected."""

from __future__ import annotations

from pathlib import Path

import pytest
from bastion_testing import imported_modules
from hypothesis import given, settings
from hypothesis import strategies as st

import bastion
from bastion.trusted_hosts import BAD_HOST, HostPolicy, parse_allowed_hosts, split_host
from bastion.wsgi.environ import decode_path

POLICY = HostPolicy("example.com *.apps.example [::1] 10.0.0.1", allowed_ports="80 8080")
HOSTLIKE = st.from_regex(
    r"(www\.)?([A-Za-z0-9*_.\-\[\]:%]{0,30})(:[0-9]{0,7})?\.?", fullmatch=True
) | st.text(max_size=40)
ENVIRON = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/",
    "QUERY_STRING": "",
    "SERVER_NAME": "localhost",
    "SERVER_PORT": "80",
    "wsgi.url_scheme": "http",
}


@settings(max_examples=400, deadline=None)
@given(HOSTLIKE)
def test_any_host_value_is_allowed_refused_or_redirected(host):
    answer = POLICY.check({**ENVIRON, "HTTP_HOST": host})
    if answer is None:
        name, port = split_host(host)
        assert port in (None, 80, 8080)
        assert name in ("example.com", "[::1]", "10.0.0.1") or name.endswith(".apps.example")
    elif answer is not BAD_HOST:
        location = dict(answer.headers)["Location"]
        assert answer.status == "301 Moved Permanently"
        assert location.startswith("http://example.com")
        assert split_host(host)[0] == "www.example.com"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30), st.none() | st.text(max_size=30))
def test_any_path_and_query_give_a_header_safe_location(path, query, raw):
    environ = {**ENVIRON, "HTTP_HOST": "www.example.com", "PATH_INFO": path, "QUERY_STRING": query}
    if raw is not None:  # as sent, and decoded as a server decodes it
        environ["REQUEST_URI"] = "/" + raw
        environ["PATH_INFO"] = decode_path("/" + raw.partition("?")[0])
    answer = POLICY.check(environ)
    location = dict(answer.headers)["Location"]
    assert location.isascii()
    assert all(32 < ord(ch) < 127 for ch in location)
    assert "#" not in location


@settings(max_examples=300, deadline=None)
@given(HOSTLIKE | st.lists(st.text(max_size=12), max_size=4))
def test_allowed_hosts_parse_or_value_error(value):
    try:
        patterns = parse_allowed_hosts(value)
    except ValueError as error:
        assert "expected at least one host pattern" in str(error)
    else:
        assert patterns
        assert parse_allowed_hosts(patterns) == patterns
        HostPolicy(patterns)


@pytest.mark.parametrize("module", ["policy.py", "middleware.py"])
def test_module_does_no_io(module):
    path = Path(bastion.__file__).parent / "hosts" / module
    names = imported_modules(path, "bastion.hosts", top_level=True)
    assert "logging" in names
    assert not names & {"socket", "select", "selectors", "threading", "ssl", "time", "os"}
