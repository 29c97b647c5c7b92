"""The debug-page guard through the ``bastion`` command: a debugging application on every
address is refused (exit status 1) before serving; ``--allow-debug-app`` starts it.
Requests go to 127.0.0.1 only."""

from __future__ import annotations

import http.client

from bastion_testing import CliProcess, free_port, run_cli

START_TIMEOUT = 20.0

DEBUG_APP = """\
class DebuggedApplication:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


DebuggedApplication.__module__ = "werkzeug.debug"


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"debuggable"]


app = DebuggedApplication(hello)
"""


def test_the_command_refuses_a_debugger_on_every_address(tmp_path):
    (tmp_path / "debug_app.py").write_text(DEBUG_APP, encoding="utf-8")
    result = run_cli("--listen", f"0.0.0.0:{free_port()}", "debug_app:app", cwd=tmp_path)
    assert result.returncode == 1
    assert "bastion: error: refusing to serve debug pages" in result.stderr
    assert "werkzeug's DebuggedApplication at app" in result.stderr
    assert "--allow-debug-app" in result.stderr
    assert "Serving on" not in result.stderr


def test_the_command_serves_it_with_allow_debug_app(tmp_path):
    (tmp_path / "debug_app.py").write_text(DEBUG_APP, encoding="utf-8")
    port = free_port()
    args = ("--listen", f"0.0.0.0:{port}", "--allow-debug-app", "debug_app:app")
    with CliProcess(*args, cwd=tmp_path) as served:
        served.wait_for(f"Serving on http://0.0.0.0:{port}", START_TIMEOUT)
        assert "as allow_debug_app is on" in served.output
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"debuggable")
        conn.close()
        assert served.stop() == 0
