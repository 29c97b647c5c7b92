"""How trusted headers rewrite the environ: each category, precedence, hop counts, walk mode."""

from __future__ import annotations

import pytest

from bastion.proxy_headers import MalformedProxyHeader, ProxyPolicy


def applied(make_environ, peer="10.0.0.1", trusted_proxy="10.0.0.1", **options_and_headers):
    headers = {k: v for k, v in options_and_headers.items() if k.startswith("HTTP_")}
    options = {k: v for k, v in options_and_headers.items() if not k.startswith("HTTP_")}
    policy = ProxyPolicy.from_options(trusted_proxy=trusted_proxy, **options)
    environ = make_environ(peer, **headers)
    policy.apply(environ)
    return environ


# -- client address --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        ("x-forwarded-for x-real-ip x-client-ip", "192.0.2.1"),
        ("x-real-ip x-client-ip", "192.0.2.2"),
        ("x-client-ip", "192.0.2.3"),
        ("forwarded x-real-ip", "192.0.2.1"),
    ],
)
def test_client_address_precedence(trusted, expected, make_environ):
    """Forwarded / X-Forwarded-For (hop-aware) before X-Real-IP before X-Client-IP."""
    environ = applied(
        make_environ,
        trusted_proxy_headers=trusted,
        HTTP_FORWARDED="for=192.0.2.1",
        HTTP_X_FORWARDED_FOR="192.0.2.1",
        HTTP_X_REAL_IP="192.0.2.2",
        HTTP_X_CLIENT_IP="192.0.2.3",
    )
    assert environ["REMOTE_ADDR"] == environ["REMOTE_HOST"] == expected


@pytest.mark.parametrize(
    ("value", "address", "port"),
    [
        ("203.0.113.4", "203.0.113.4", ""),
        ("2001:DB8:0::1", "2001:db8::1", ""),
        ("[2001:db8::1]", "2001:db8::1", ""),
        ("[2001:db8::1]:4711", "2001:db8::1", "4711"),
        ("203.0.113.4:8000", "203.0.113.4", "8000"),
        ('"[2001:db8::1]:4711"', "2001:db8::1", "4711"),
    ],
)
def test_x_forwarded_for_entry_forms(value, address, port, make_environ):
    environ = applied(
        make_environ, trusted_proxy_headers="x-forwarded-for", HTTP_X_FORWARDED_FOR=value
    )
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == (address, port)


def test_x_real_ip_sets_remote_addr(make_environ):
    environ = applied(make_environ, trusted_proxy_headers="x-real-ip", HTTP_X_REAL_IP="::1")
    assert environ["REMOTE_ADDR"] == "::1"


def test_empty_x_forwarded_for_changes_nothing(make_environ):
    environ = applied(
        make_environ, trusted_proxy_headers="x-forwarded-for", HTTP_X_FORWARDED_FOR=" , "
    )
    assert environ["REMOTE_ADDR"] == "10.0.0.1"


# -- scheme, host, port, prefix ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "value", "scheme"),
    [
        ("x-forwarded-proto", "HTTPS", "https"),
        ("x-forwarded-scheme", "https", "https"),
        ("x-scheme", "http", "http"),
        ("x-forwarded-ssl", "on", "https"),
        ("x-forwarded-ssl", "off", "http"),
        ("x-forwarded-https", "1", "https"),
        ("x-https", "True", "https"),
        ("x-https", "no", "http"),
    ],
)
def test_scheme_headers(header, value, scheme, make_environ):
    key = "HTTP_" + header.upper().replace("-", "_")
    start = make_environ("10.0.0.1")
    start["wsgi.url_scheme"] = "https" if scheme == "http" else "http"
    policy = ProxyPolicy.from_options(trusted_proxy="10.0.0.1", trusted_proxy_headers=header)
    start[key] = value
    policy.apply(start)
    assert start["wsgi.url_scheme"] == scheme
    assert start["SERVER_PORT"] == {"http": "80", "https": "443"}[scheme]


def test_scheme_precedence(make_environ):
    environ = applied(
        make_environ,
        trusted_proxy_headers="x-forwarded-proto x-forwarded-scheme x-scheme x-forwarded-ssl",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_SCHEME="http",
        HTTP_X_SCHEME="http",
        HTTP_X_FORWARDED_SSL="off",
    )
    assert environ["wsgi.url_scheme"] == "https"
    environ = applied(
        make_environ,
        trusted_proxy_headers="x-scheme x-forwarded-ssl",
        HTTP_X_SCHEME="http",
        HTTP_X_FORWARDED_SSL="on",
    )
    assert environ["wsgi.url_scheme"] == "http"


@pytest.mark.parametrize(
    ("headers", "http_host", "server_name", "server_port"),
    [
        ({"HTTP_X_FORWARDED_HOST": "Example.COM"}, "example.com", "example.com", "8080"),
        ({"HTTP_X_FORWARDED_HOST": "example.com:8443"}, "example.com:8443", "example.com", "8443"),
        ({"HTTP_X_FORWARDED_HOST": "[2001:db8::1]:81"}, "[2001:db8::1]:81", "[2001:db8::1]", "81"),
        (
            {"HTTP_X_FORWARDED_HOST": "example.com", "HTTP_X_FORWARDED_PORT": "8443"},
            "example.com:8443",
            "example.com",
            "8443",
        ),
        (
            {"HTTP_X_FORWARDED_HOST": "example.com", "HTTP_X_FORWARDED_PROTO": "https"},
            "example.com",
            "example.com",
            "443",
        ),
        (
            {"HTTP_X_FORWARDED_HOST": "example.com", "HTTP_X_FORWARDED_PORT": "80"},
            "example.com",
            "example.com",
            "80",
        ),
        (
            # The port inside the host wins over X-Forwarded-Port.
            {"HTTP_X_FORWARDED_HOST": "example.com:9000", "HTTP_X_FORWARDED_PORT": "8443"},
            "example.com:9000",
            "example.com",
            "9000",
        ),
        ({"HTTP_X_HOST": "other.example"}, "other.example", "other.example", "8080"),
        (
            {"HTTP_X_FORWARDED_HOST": "first.example", "HTTP_X_HOST": "second.example"},
            "first.example",
            "first.example",
            "8080",
        ),
    ],
)
def test_host_and_port(headers, http_host, server_name, server_port, make_environ):
    environ = applied(
        make_environ,
        trusted_proxy_headers="x-forwarded-host x-host x-forwarded-port x-forwarded-proto",
        **headers,
    )
    assert (environ["HTTP_HOST"], environ["SERVER_NAME"], environ["SERVER_PORT"]) == (
        http_host,
        server_name,
        server_port,
    )


@pytest.mark.parametrize(
    ("header", "value", "script_name"),
    [
        ("x-forwarded-prefix", "/app", "/app"),
        ("x-forwarded-prefix", "/app/", "/app"),
        ("x-forwarded-prefix", "/", ""),
        ("x-script-name", "/my%20app", "/my app"),
        ("x-forwarded-script-name", "/a/b", "/a/b"),
    ],
)
def test_prefix_sets_script_name(header, value, script_name, make_environ):
    key = "HTTP_" + header.upper().replace("-", "_")
    environ = applied(make_environ, trusted_proxy_headers=header, **{key: value})
    assert environ["SCRIPT_NAME"] == script_name
    assert environ["PATH_INFO"] == "/"


def test_prefix_goes_before_the_servers_own_script_name(make_environ):
    policy = ProxyPolicy.from_options(
        trusted_proxy="10.0.0.1", trusted_proxy_headers="x-forwarded-prefix"
    )
    environ = make_environ("10.0.0.1", HTTP_X_FORWARDED_PREFIX="/outer")
    environ["SCRIPT_NAME"] = "/inner"
    policy.apply(environ)
    assert environ["SCRIPT_NAME"] == "/outer/inner"


def test_x_forwarded_by_passes_through_without_effect(make_environ):
    environ = applied(
        make_environ, trusted_proxy_headers="x-forwarded-by", HTTP_X_FORWARDED_BY="10.0.0.1"
    )
    assert environ["HTTP_X_FORWARDED_BY"] == "10.0.0.1"
    assert environ["REMOTE_ADDR"] == "10.0.0.1"


# -- Forwarded together with X-Forwarded-* ---------------------------------------------------------


@pytest.mark.parametrize(
    ("forwarded", "headers", "agree"),
    [
        ("for=192.0.2.1", {"HTTP_X_FORWARDED_FOR": "192.0.2.1"}, True),
        ('for="192.0.2.1:99"', {"HTTP_X_FORWARDED_FOR": "192.0.2.1"}, True),
        ("for=192.0.2.1", {"HTTP_X_FORWARDED_FOR": "192.0.2.2"}, False),
        ("proto=https", {"HTTP_X_FORWARDED_PROTO": "https"}, True),
        ("proto=https", {"HTTP_X_FORWARDED_PROTO": "http"}, False),
        ("host=a.example", {"HTTP_X_FORWARDED_HOST": "A.example"}, True),
        ("host=a.example", {"HTTP_X_FORWARDED_HOST": "b.example"}, False),
        ("for=_hidden", {"HTTP_X_FORWARDED_FOR": "192.0.2.2"}, True),
        ("host=a.example", {"HTTP_X_FORWARDED_FOR": "192.0.2.2"}, True),
    ],
)
def test_forwarded_and_x_forwarded_must_agree(forwarded, headers, agree, make_environ):
    policy = ProxyPolicy.from_options(
        trusted_proxy="10.0.0.1",
        trusted_proxy_headers="forwarded x-forwarded-for x-forwarded-proto x-forwarded-host",
    )
    environ = make_environ("10.0.0.1", HTTP_FORWARDED=forwarded, **headers)
    if agree:
        policy.apply(environ)
        return
    before = dict(environ)
    with pytest.raises(MalformedProxyHeader) as raised:
        policy.apply(environ)
    assert raised.value.header == "Forwarded"
    assert "different" in raised.value.reason
    assert environ == before


# -- hop counts ----------------------------------------------------------------------------------

CHAIN = "198.51.100.1, 203.0.113.1, 10.0.0.1, 10.0.0.2"


@pytest.mark.parametrize(
    ("count", "client", "kept"),
    [
        (1, "10.0.0.2", "10.0.0.2"),
        (2, "10.0.0.1", "10.0.0.1, 10.0.0.2"),
        (3, "203.0.113.1", "203.0.113.1, 10.0.0.1, 10.0.0.2"),
        (4, "198.51.100.1", CHAIN),
        (9, "198.51.100.1", CHAIN),  # fewer entries than trusted hops: the leftmost one
    ],
)
def test_count_mode_takes_the_entry_count_hops_from_the_right(count, client, kept, make_environ):
    environ = applied(
        make_environ,
        trusted_proxy_count=count,
        trusted_proxy_headers="x-forwarded-for",
        HTTP_X_FORWARDED_FOR=CHAIN,
    )
    assert environ["REMOTE_ADDR"] == client
    assert environ["HTTP_X_FORWARDED_FOR"] == kept


def test_count_mode_ignores_garbage_left_of_the_trusted_hops(make_environ):
    environ = applied(
        make_environ,
        trusted_proxy_headers="x-forwarded-for",
        HTTP_X_FORWARDED_FOR="<script>, not-an-ip, 192.0.2.8",
    )
    assert environ["REMOTE_ADDR"] == "192.0.2.8"
    assert environ["HTTP_X_FORWARDED_FOR"] == "192.0.2.8"


def test_count_applies_to_x_forwarded_host(make_environ):
    environ = applied(
        make_environ,
        trusted_proxy_count=2,
        trusted_proxy_headers="x-forwarded-host",
        HTTP_X_FORWARDED_HOST="evil.example, outer.example, inner.example",
    )
    assert environ["HTTP_HOST"] == "outer.example"
    assert environ["HTTP_X_FORWARDED_HOST"] == "outer.example, inner.example"


def test_count_applies_to_forwarded_elements(make_environ):
    forwarded = (
        'for=192.0.2.66;host=evil.example, for=192.0.2.1;host="a.example";proto=https, for=10.0.0.5'
    )
    environ = applied(
        make_environ,
        trusted_proxy_count=2,
        trusted_proxy_headers="forwarded",
        HTTP_FORWARDED=forwarded,
    )
    # The oldest trusted element carrying a parameter supplies it.
    assert environ["REMOTE_ADDR"] == "192.0.2.1"
    assert environ["HTTP_HOST"] == "a.example"
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["HTTP_FORWARDED"] == 'for=192.0.2.1;host="a.example";proto=https, for=10.0.0.5'


# -- walk mode -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "client"),
    [
        ("192.0.2.1, 10.0.0.7, 10.0.0.8", "192.0.2.1"),
        ("6.6.6.6, 192.0.2.1, 10.0.0.8", "192.0.2.1"),
        ("192.0.2.1", "192.0.2.1"),
        ("10.0.0.9, 10.0.0.8", "10.0.0.9"),  # every entry is a proxy: the leftmost
        ("garbage, 192.0.2.1, 10.0.0.8", "192.0.2.1"),  # left of the client: not examined
    ],
)
def test_walk_mode_skips_trusted_proxies_from_the_right(chain, client, make_environ):
    environ = applied(
        make_environ,
        peer="10.0.0.1",
        trusted_proxy="10.0.0.0/24",
        trusted_proxy_mode="walk",
        trusted_proxy_count=1,
        trusted_proxy_headers="x-forwarded-for x-forwarded-host",
        HTTP_X_FORWARDED_FOR=chain,
    )
    assert environ["REMOTE_ADDR"] == client
    assert environ["HTTP_X_FORWARDED_FOR"].startswith(client)


def test_walk_mode_uses_the_walked_hops_for_x_forwarded_host(make_environ):
    environ = applied(
        make_environ,
        trusted_proxy="10.0.0.0/24",
        trusted_proxy_mode="walk",
        trusted_proxy_headers="x-forwarded-for x-forwarded-host",
        HTTP_X_FORWARDED_FOR="192.0.2.1, 10.0.0.7",
        HTTP_X_FORWARDED_HOST="evil.example, outer.example, inner.example",
    )
    assert environ["HTTP_HOST"] == "outer.example"


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("for=192.0.2.1, for=10.0.0.7", "192.0.2.1"),
        ('for=6.6.6.6, for=192.0.2.1, for="10.0.0.7:80"', "192.0.2.1"),
        ("for=192.0.2.1, for=_hidden, for=10.0.0.7", "10.0.0.1"),  # hidden client: unchanged
        ("for=192.0.2.1, by=10.0.0.7", "10.0.0.1"),  # no for= to judge: the walk stops
    ],
)
def test_walk_mode_over_forwarded(forwarded, client, make_environ):
    environ = applied(
        make_environ,
        trusted_proxy="10.0.0.0/24",
        trusted_proxy_mode="walk",
        trusted_proxy_headers="forwarded",
        HTTP_FORWARDED=forwarded,
    )
    assert environ["REMOTE_ADDR"] == client


def test_count_mode_would_be_fooled_where_walk_mode_is_not(make_environ):
    """Two proxies configured, but a client reached the inner one directly with a forgery."""
    headers = {"HTTP_X_FORWARDED_FOR": "192.0.2.50, 198.51.100.7"}
    count = applied(
        make_environ,
        trusted_proxy="10.0.0.0/24",
        trusted_proxy_count=2,
        trusted_proxy_headers="x-forwarded-for",
        **headers,
    )
    walk = applied(
        make_environ,
        trusted_proxy="10.0.0.0/24",
        trusted_proxy_mode="walk",
        trusted_proxy_headers="x-forwarded-for",
        **headers,
    )
    assert count["REMOTE_ADDR"] == "192.0.2.50"
    assert walk["REMOTE_ADDR"] == "198.51.100.7"
