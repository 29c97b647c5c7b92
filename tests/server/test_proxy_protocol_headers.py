"""Behind the PROXY protocol the preamble names the client; forwarding headers count only
with proxy_protocol_headers (security review, issue 9, point 8).

A balancer in TCP mode never touches HTTP headers: whatever X-Forwarded-For the client
wrote reaches bastion on the balancer's (trusted) connection. The attack below is the one
reported: trusted_proxy_headers set, the preamble naming 1.2.3.4, the client forging
9.9.9.9.
"""

from __future__ import annotations

import warnings

import pytest

from bastion.cli import build_parser, load_config
from bastion.config import Config
from bastion.config import sources as src
from bastion.errors import ConfigError

REVIEWED = {
    "proxy_protocol": True,
    "trusted_proxy": "127.0.0.1",
    "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto forwarded x-real-ip",
}
PREAMBLE = b"PROXY TCP4 1.2.3.4 127.0.0.1 40000 80\r\n"
FORGED = (
    b"GET / HTTP/1.1\r\nHost: a\r\n"
    b"X-Forwarded-For: 9.9.9.9\r\n"
    b"X-Forwarded-Proto: https\r\n"
    b'Forwarded: for="9.9.9.9";proto=https\r\n'
    b"X-Real-IP: 9.9.9.9\r\n\r\n"
)


def seen_app(environ, start_response):
    forwarded = sorted(key for key in environ if "FORWARD" in key or key == "HTTP_X_REAL_IP")
    body = " ".join(
        [environ["REMOTE_ADDR"], environ["REMOTE_PORT"], environ["wsgi.url_scheme"], *forwarded]
    ).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def test_a_client_behind_a_tcp_balancer_cannot_forge_its_address(serve_app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the configuration's warning: see below
        with serve_app(seen_app, **REVIEWED) as server:
            response = server.request(PREAMBLE + FORGED)
    # Before: "9.9.9.9  https", and the forged headers all reached the application.
    assert response.body == b"1.2.3.4 40000 http"


def test_forging_needs_no_trusted_headers_named(serve_app):
    options = {"proxy_protocol": True, "trusted_proxy": "127.0.0.1"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither waitress's implicit header nor its warning
        with serve_app(seen_app, **options) as server:
            response = server.request(PREAMBLE + FORGED)
    assert response.body == b"1.2.3.4 40000 http"


def test_the_opt_in_lets_an_http_mode_balancer_s_headers_count(serve_app):
    # HAProxy in HTTP mode appends its peer (the client, 1.2.3.4) to X-Forwarded-For.
    options = {**REVIEWED, "proxy_protocol_headers": True}
    request = (
        b"GET / HTTP/1.1\r\nHost: a\r\n"
        b"X-Forwarded-For: 9.9.9.9, 1.2.3.4\r\nX-Forwarded-Proto: https\r\n\r\n"
    )
    with serve_app(seen_app, **options) as server:
        response = server.request(PREAMBLE + request)
    assert response.body == b"1.2.3.4  https HTTP_X_FORWARDED_FOR HTTP_X_FORWARDED_PROTO"


# -- the configuration ---------------------------------------------------------------------------


def test_the_option_is_off_by_default():
    assert Config.from_kwargs().proxy_protocol_headers is False


def test_the_option_needs_proxy_protocol():
    with pytest.raises(
        ConfigError, match="proxy_protocol_headers applies only with proxy_protocol"
    ):
        Config.from_kwargs(trusted_proxy="127.0.0.1", proxy_protocol_headers=True)


def test_named_headers_are_ignored_with_a_warning():
    with pytest.warns(UserWarning, match="trusted_proxy_headers are ignored"):
        config = Config.from_kwargs(**REVIEWED)
    assert config.trusted_proxy_headers == frozenset()
    assert config.sources["trusted_proxy_headers"] == (
        "ignored: proxy_protocol without proxy_protocol_headers"
    )


def test_the_opt_in_keeps_waitress_s_implicit_header():
    with pytest.warns(DeprecationWarning, match="implicitly trusting"):
        config = Config.from_kwargs(
            proxy_protocol=True, trusted_proxy="127.0.0.1", proxy_protocol_headers=True
        )
    assert config.trusted_proxy_headers == {"x-forwarded-proto"}


def test_flag_environment_and_file_set_it(tmp_path):
    namespace = build_parser().parse_args(
        [
            *("--proxy-protocol", "--trusted-proxy", "127.0.0.1", "--proxy-protocol-headers"),
            *("--trusted-proxy-headers", "x-forwarded-for"),
        ]
    )
    assert load_config(namespace).proxy_protocol_headers is True
    env = {"BASTION_PROXY_PROTOCOL": "1", "BASTION_TRUSTED_PROXY": "127.0.0.1"}
    env["BASTION_TRUSTED_PROXY_HEADERS"] = "x-forwarded-for"
    env["BASTION_PROXY_PROTOCOL_HEADERS"] = "yes"
    assert Config.from_layers([src.from_env(env)]).proxy_protocol_headers is True
    path = tmp_path / "bastion.toml"
    path.write_text(
        'proxy_protocol = true\ntrusted_proxy = "127.0.0.1"\nproxy_protocol_headers = true\n'
        'trusted_proxy_headers = "x-forwarded-for"\n',
        encoding="utf-8",
    )
    assert Config.from_layers([src.from_file(str(path))]).proxy_protocol_headers is True
