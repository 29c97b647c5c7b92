"""HostPolicy.check on hand-built environs: which Hosts pass, which are refused or redirected."""

from __future__ import annotations

import pytest

from bastion.proxy_headers import ProxyPolicy
from bastion.trusted_hosts import BAD_HOST, HostPolicy, split_host


def allowed(policy: HostPolicy, environ) -> bool:
    answer = policy.check(environ)
    assert answer is None or answer is BAD_HOST
    return answer is None


@pytest.fixture
def policy() -> HostPolicy:
    return HostPolicy(["example.com", "*.apps.example", "127.0.0.1", "[::1]", "localhost"])


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "EXAMPLE.com",
        "Example.Com.",
        "example.com:8080",
        "example.com.:8080",
        "127.0.0.1",
        "127.0.0.1:8000",
        "[::1]",
        "[::1]:8080",
        "[0:0::1]",
        "[0000:0000:0000:0000:0000:0000:0000:0001]:443",
        "localhost",
        "web.apps.example",
        "A.B.apps.example",
        "x-1.apps.example.",
    ],
)
def test_allowed_hosts_pass(policy, make_environ, host):
    assert allowed(policy, make_environ(host))


@pytest.mark.parametrize(
    "host",
    [
        "evil.com",
        "example.com.evil.com",
        "evil-example.com",
        "apps.example",
        "badapps.example",
        "xapps.example",
        ".apps.example",
        "a..apps.example",
        "-a.apps.example",
        "a_b.apps.example",
        "127.0.0.2",
        "127.1",
        "127.000.000.001",
        "[::2]",
        "::1",
        "[::1",
        "[::1]x",
        "[fe80::1%25eth0]",
        "",
        ".",
        ":80",
        "example.com:0",
        "example.com:",
        "example.com:080",
        "example.com:65536",
        "example.com:123456",
        "example.com:http",
        "example.com:+80",
        "example.com:80:80",
        "example.com:٨٠",
        "example.com..",
        "example.com, evil.com",
        "example.com evil.com",
        "exam\u212aple.com",
        "user@example.com",
        "example.com/",
    ],
)
def test_other_or_malformed_hosts_refused(policy, make_environ, host):
    assert not allowed(policy, make_environ(host))


def test_wildcard_does_not_match_the_bare_domain(make_environ):
    policy = HostPolicy("*.example.com")
    assert allowed(policy, make_environ("sub.example.com"))
    assert allowed(policy, make_environ("a.b.example.com"))
    assert not allowed(policy, make_environ("example.com"))
    assert not allowed(policy, make_environ("badexample.com"))


def test_wildcard_and_bare_domain_together(make_environ):
    policy = HostPolicy("example.com *.example.com", www_redirect=False)
    assert allowed(policy, make_environ("example.com"))
    assert allowed(policy, make_environ("www.example.com"))


def test_non_string_host_refused(policy, make_environ):
    assert not allowed(policy, make_environ(b"example.com"))  # type: ignore[arg-type]


# -- ports ---------------------------------------------------------------------------------


def test_explicit_port_checked(make_environ):
    policy = HostPolicy("example.com [::1]", allowed_ports=[8080, 443])
    assert allowed(policy, make_environ("example.com:8080"))
    assert allowed(policy, make_environ("EXAMPLE.COM:8080"))
    assert allowed(policy, make_environ("[::1]:443"))
    assert not allowed(policy, make_environ("example.com:8081"))
    assert not allowed(policy, make_environ("example.com:80"))
    assert not allowed(policy, make_environ("evil.com:8080"))


@pytest.mark.parametrize(
    ("ports", "scheme", "ok"),
    [
        ([443], "https", True),
        ([443], "http", False),
        ([80], "http", True),
        ([80], "https", False),
        ([8080], "http", False),
    ],
)
def test_port_implied_by_scheme(make_environ, ports, scheme, ok):
    policy = HostPolicy("example.com", allowed_ports=ports)
    assert allowed(policy, make_environ("example.com", scheme=scheme)) is ok


def test_explicit_port_wins_over_scheme(make_environ):
    policy = HostPolicy("example.com", allowed_ports=[443])
    assert allowed(policy, make_environ("example.com:443", scheme="http"))
    assert not allowed(policy, make_environ("example.com:80", scheme="https"))


def test_no_port_and_unknown_scheme_refused_when_ports_restricted(make_environ):
    policy = HostPolicy("example.com", allowed_ports=[80])
    assert not allowed(policy, make_environ("example.com", scheme="gopher"))


# -- any host ------------------------------------------------------------------------------


@pytest.mark.parametrize("hosts", ["*", None, "example.com *"])
def test_any_host_is_no_check(make_environ, hosts):
    policy = HostPolicy(hosts)
    for host in ("evil.com", "", "\x00garbage", "[::1]", "x:99999"):
        assert allowed(policy, make_environ(host))


def test_any_host_still_checks_ports(make_environ):
    policy = HostPolicy("*", allowed_ports="8080")
    assert allowed(policy, make_environ("anything.example:8080"))
    assert allowed(policy, make_environ("[2001:db8::1]:8080"))
    assert not allowed(policy, make_environ("anything.example:8081"))
    assert not allowed(policy, make_environ("anything.example"))
    assert not allowed(policy, make_environ("anything.example:80:8080"))


# -- the Host the app would see --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "port", "scheme", "ok"),
    [
        ("example.com", "80", "http", True),
        ("example.com", "443", "https", True),
        ("Example.com", "8080", "http", False),
        ("server.internal", "80", "http", False),
        ("::1", "80", "http", True),
        ("", "80", "http", False),
    ],
)
def test_without_http_host_server_name_and_port_are_checked(make_environ, name, port, scheme, ok):
    policy = HostPolicy("example.com [::1]", allowed_ports="80 443")
    environ = make_environ(None, scheme=scheme, SERVER_NAME=name, SERVER_PORT=port)
    assert "HTTP_HOST" not in environ
    assert allowed(policy, environ) is ok


def test_non_default_server_port_counts_as_explicit(make_environ):
    policy = HostPolicy("example.com", allowed_ports="8080")
    environ = make_environ(None, SERVER_NAME="example.com", SERVER_PORT="8080")
    assert allowed(policy, environ)


def test_empty_http_host_is_refused_not_replaced_by_server_name(make_environ):
    policy = HostPolicy("example.com")
    assert not allowed(policy, make_environ("", SERVER_NAME="example.com"))


def test_forged_forwarded_host_headers_are_ignored(make_environ):
    policy = HostPolicy("example.com")
    forged = {"HTTP_X_FORWARDED_HOST": "example.com", "HTTP_X_HOST": "example.com"}
    assert not allowed(policy, make_environ("evil.com", **forged))
    forged = {"HTTP_X_FORWARDED_HOST": "evil.com", "HTTP_X_HOST": "evil.com"}
    environ = make_environ("example.com", **forged)
    assert allowed(policy, environ)
    assert environ["HTTP_HOST"] == "example.com"


@pytest.mark.parametrize(
    ("peer", "ok"),
    [("10.0.0.1", True), ("203.0.113.9", False)],
)
def test_forwarded_host_counts_only_after_the_trusted_proxy_layer(make_environ, peer, ok):
    proxies = ProxyPolicy.from_options(
        trusted_proxy="10.0.0.1", trusted_proxy_headers="x-forwarded-host"
    )
    hosts = HostPolicy("example.com")
    environ = make_environ(
        "backend.internal", REMOTE_ADDR=peer, HTTP_X_FORWARDED_HOST="example.com"
    )
    proxies.apply(environ)
    assert allowed(hosts, environ) is ok


# -- exempt paths --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script_name", "path", "exempt"),
    [
        ("", "/health", True),
        ("", "/health/", False),
        ("", "/healthz", False),
        ("", "/health/x", False),
        ("", "/.well-known/acme-challenge/token", True),
        ("", "/.well-known/", True),
        ("", "/.well-known", True),
        ("", "/.well-knownx", False),
        ("", "/.well-known/../admin", False),
        ("", "/.well-known/./x", False),
        ("", "/.well-known/a/..", False),
        ("", "/.well-known/..x", True),
        ("/app", "/status", True),
        ("/app", "/health", False),
        ("", "/app/status", True),
        ("", "/", False),
    ],
)
def test_exempt_paths_skip_the_check(make_environ, script_name, path, exempt):
    policy = HostPolicy("example.com", exempt_paths="/health /.well-known/* /app/status")
    environ = make_environ("evil.com", path=path, SCRIPT_NAME=script_name)
    assert policy.exempt(environ) is exempt
    assert allowed(policy, environ) is exempt


def test_catch_all_exempt_prefix(make_environ):
    policy = HostPolicy("example.com", exempt_paths="/*")
    assert allowed(policy, make_environ("evil.com", path="/anything"))
    assert not allowed(policy, make_environ("evil.com", path="/a/../b"))


# -- www redirect --------------------------------------------------------------------------


def redirect(policy: HostPolicy, environ):
    answer = policy.check(environ)
    assert answer is not None and answer is not BAD_HOST
    headers = dict(answer.headers)
    assert answer.body == b""
    assert headers["Content-Length"] == "0"
    return answer.status, headers["Location"]


@pytest.mark.parametrize(
    ("method", "status"),
    [
        ("GET", "301 Moved Permanently"),
        ("HEAD", "301 Moved Permanently"),
        ("POST", "308 Permanent Redirect"),
        ("PUT", "308 Permanent Redirect"),
        ("DELETE", "308 Permanent Redirect"),
    ],
)
def test_www_redirect_status_by_method(make_environ, method, status):
    policy = HostPolicy("example.com")
    got, location = redirect(policy, make_environ("www.example.com", method=method))
    assert got == status
    assert location == "http://example.com/"


@pytest.mark.parametrize(
    ("environ_args", "location"),
    [
        (
            dict(host="www.example.com:8443", scheme="https", path="/a/b", QUERY_STRING="x=1&y=2"),
            "https://example.com:8443/a/b?x=1&y=2",
        ),
        (dict(host="WWW.Example.COM."), "http://example.com/"),
        (dict(host="www.example.com", path="", SCRIPT_NAME=""), "http://example.com/"),
        (
            dict(host="www.example.com", SCRIPT_NAME="/app", path="/x y/%/?#"),
            "http://example.com/app/x%20y/%25/%3F%23",
        ),
        (
            dict(host="www.example.com", path="/caf\xc3\xa9;v=1/@:~"),
            "http://example.com/caf%C3%A9;v=1/@:~",
        ),
        (
            dict(host="www.example.com", QUERY_STRING="q=%20a b\r\nSet-Cookie:x"),
            "http://example.com/?q=%20a%20b%0D%0ASet-Cookie:x",
        ),
        (dict(host=None, SERVER_NAME="www.example.com", SERVER_PORT="8080"), None),
    ],
)
def test_www_redirect_location_keeps_scheme_port_path_query(make_environ, environ_args, location):
    policy = HostPolicy("example.com")
    status, got = redirect(policy, make_environ(**environ_args))
    assert status == "301 Moved Permanently"
    assert got == (location or "http://example.com:8080/")
    assert all(32 < ord(ch) < 127 for ch in got)


SENT = dict(host="www.example.com", path="/a/b", QUERY_STRING="x=%20")


@pytest.mark.parametrize(
    ("environ_args", "location"),
    [
        (dict(REQUEST_URI="/a%2Fb?x=%20"), "http://example.com/a%2Fb?x=%20"),
        (dict(RAW_URI="/a%2Fb?x=%20"), "http://example.com/a%2Fb?x=%20"),  # gunicorn
        (dict(REQUEST_URI="http://www.example.com/a%2Fb?x=%20"), "http://example.com/a%2Fb?x=%20"),
        # url_prefix: SCRIPT_NAME is part of what was sent
        (
            dict(SCRIPT_NAME="/app", REQUEST_URI="/app/a%2Fb?x=%20"),
            "http://example.com/app/a%2Fb?x=%20",
        ),
        # a proxy's prefix (X-Forwarded-Prefix) goes in front of what was sent
        (
            dict(SCRIPT_NAME="/shop", REQUEST_URI="/a%2Fb?x=%20"),
            "http://example.com/shop/a%2Fb?x=%20",
        ),
        # a raw target that is not this path (a middleware rewrote it): PATH_INFO, encoded
        (dict(REQUEST_URI="/elsewhere%2F?x=%20"), "http://example.com/a/b?x=%20"),
    ],
)
def test_www_redirect_location_is_the_path_as_sent(make_environ, environ_args, location):
    """Issue 9 point 9a: PATH_INFO is decoded, so "%2F" in it is "/": a Location built
    from it pointed at /a/b, another resource than the /a%2Fb asked for."""
    _, got = redirect(HostPolicy("example.com"), make_environ(**{**SENT, **environ_args}))
    assert got == location


def test_a_raw_target_from_another_server_is_made_header_safe(make_environ):
    environ = make_environ("www.example.com", path='/a"b <c>#\r\n', REQUEST_URI='/a"b <c>#\r\n')
    _, got = redirect(HostPolicy("example.com"), environ)
    assert got == "http://example.com/a%22b%20%3Cc%3E%23%0D%0A"


def test_no_redirect_when_www_itself_is_allowed(make_environ):
    for hosts in ("example.com www.example.com", "example.com *.example.com"):
        assert allowed(HostPolicy(hosts), make_environ("www.example.com"))


def test_no_redirect_when_the_bare_name_is_not_allowed(make_environ):
    policy = HostPolicy("other.com *.example.com.org 10.0.0.1")
    assert not allowed(policy, make_environ("www.example.com"))
    assert not allowed(policy, make_environ("www.10.0.0.1"))


def test_no_redirect_when_disabled(make_environ):
    policy = HostPolicy("example.com", www_redirect=False)
    assert not allowed(policy, make_environ("www.example.com"))


def test_no_redirect_to_a_refused_port(make_environ):
    policy = HostPolicy("example.com", allowed_ports=[443])
    assert not allowed(policy, make_environ("www.example.com:8443", scheme="https"))
    status, location = redirect(policy, make_environ("www.example.com", scheme="https"))
    assert status == "301 Moved Permanently"
    assert location == "https://example.com/"


# -- split_host ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("Example.com.", ("example.com", None)),
        ("example.com:80", ("example.com", 80)),
        ("[::FFFF:1.2.3.4]:1", (split_host("[::ffff:102:304]")[0], 1)),
        # The port rule of bastion.http.authority: no leading zeros, not empty, 1-65535.
        ("example.com:080", None),
        ("example.com:", None),
        ("example.com:0", None),
        ("[::1]:", None),
        ("[::1]:65536", None),
        ("", None),
    ],
)
def test_split_host(host, expected):
    assert split_host(host) == expected
