"""The PasteDeploy server runner: string options from an ini file, through to serving."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys

import pytest
from bastion_testing import clean_env, stop_process, wait_until
from paste.deploy import loadserver

import bastion
from bastion.config import Config
from bastion.errors import ConfigError
from bastion.paste import serve_paste

INI = """\
[server:main]
use = egg:bastion
host = 127.0.0.1
port = {port}
threads = 3
expose_tracebacks = false
connection_limit = 500
url_prefix = /shop/
trusted_proxy = 10.0.0.1
trusted_proxy_headers = x-forwarded-for x-forwarded-proto
trusted_proxy_count = 1
unix_socket_perms = 660
channel_timeout = 45
max_request_body_size = 2M
access_log_format = json
"""


@pytest.fixture
def captured(monkeypatch):
    calls = []
    monkeypatch.setattr(bastion, "serve", lambda app, **kw: calls.append((app, kw)))
    return calls


def _app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"from paste"]


def test_serve_paste_passes_options_to_serve(captured):
    assert serve_paste(_app, {"here": "/srv"}, threads="3", port="8081") == 0
    assert captured == [(_app, {"threads": "3", "port": "8081"})]


def test_loadserver_finds_bastion_by_egg_name(tmp_path, captured):
    ini = tmp_path / "site.ini"
    ini.write_text(INI.format(port=8765), encoding="utf-8")
    runner = loadserver(f"config:{ini}")
    runner(_app)
    [(app, options)] = captured
    assert app is _app
    assert options["threads"] == "3" and options["host"] == "127.0.0.1"


def test_every_ini_string_converts(monkeypatch):
    for var in [v for v in os.environ if v.startswith("BASTION_")]:
        monkeypatch.delenv(var)
    options = dict(line.split(" = ", 1) for line in INI.format(port=8765).splitlines()[2:] if line)
    config = Config.from_kwargs(**options)
    assert config.listen == (("127.0.0.1", 8765),)
    assert (config.threads, config.expose_tracebacks, config.connection_limit) == (3, False, 500)
    assert config.url_prefix == "/shop"
    assert config.trusted_proxy_headers == {"x-forwarded-for", "x-forwarded-proto"}
    assert config.unix_socket_perms == 0o660
    assert config.channel_timeout == 45.0
    assert config.max_request_body_size == 2 * 1024 * 1024
    assert config.access_log_format == "json"


def test_unknown_ini_option_is_a_config_error():
    with pytest.raises(ConfigError, match="did you mean 'threads'"):
        serve_paste(_app, {}, threds="3")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_paste_deploy_serves_for_real_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    ini = tmp_path / "site.ini"
    ini.write_text(
        f"[server:main]\nuse = egg:bastion\nlisten = 127.0.0.1:{port}\nident = pasted\n",
        encoding="utf-8",
    )
    script = (
        "from paste.deploy import loadserver\n"
        "from bastion.demo import app\n"
        f"loadserver({f'config:{ini}'!r})(app)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env=clean_env())
    try:
        answer: list[tuple[int, str | None]] = []

        def answered() -> bool:
            if proc.poll() is not None:
                return True  # exited: nothing more to wait for
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/")
                response = conn.getresponse()
                answer.append((response.status, response.getheader("Server")))
                conn.close()
            except OSError:
                return False
            return True

        wait_until(answered, 20, interval=0.05)
        assert answer == [(200, "pasted")], f"exit status {proc.poll()}"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        stop_process(proc)
