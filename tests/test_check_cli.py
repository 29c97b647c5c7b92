"""``bastion check`` as a subprocess: the same flags and application as serving, findings
as text or JSON, exit status 1 on an error, 2 on a bad flag; nothing bound. Real Django and
Flask applications are checked here, each in its own process."""

from __future__ import annotations

import json
import os
import socket

from bastion_testing import free_port, run_cli

# Where the tests run as root (CI does), name an account so that root-without-user, an
# error, does not hide the exit status under test; 'nobody' is only a warning.
ACCOUNT = ("--user", "nobody") if os.geteuid() == 0 else ()

DEBUG_APP = """\
from werkzeug.debug import DebuggedApplication

print("imported, and printing to standard output")


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


app = DebuggedApplication(hello, evalex=True)
plain = hello
"""

DJANGO_SITE = """\
from django.conf import settings

settings.configure(DEBUG={debug}, SECRET_KEY="not-secret", ROOT_URLCONF=__name__)
urlpatterns = []

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
"""

FLASK_APP = """\
from flask import Flask

app = Flask(__name__)
app.debug = True
"""


def check_json(*args: str, cwd) -> tuple[int, dict]:
    result = run_cli("check", "--format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def ids(report: dict) -> list[str]:
    return [finding["id"] for finding in report["findings"]]


def by_id(report: dict, finding_id: str) -> dict:
    [finding] = [f for f in report["findings"] if f["id"] == finding_id]
    return finding


def test_help_shows_the_serving_flags_and_format(tmp_path):
    result = run_cli("check", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "usage: bastion check [OPTIONS] [MODULE:OBJECT]" in result.stdout
    for flag in ("--format {text,json}", "--listen HOST:PORT", "--allow-debug-app", "--call"):
        assert flag in result.stdout, flag
    assert "--print-config" not in result.stdout
    assert "bastion check" in run_cli("--help", cwd=tmp_path).stdout


def test_a_debugger_on_every_address_is_an_error_in_json_exit_1(tmp_path):
    (tmp_path / "debug_app.py").write_text(DEBUG_APP, encoding="utf-8")
    args = (*ACCOUNT, "--umask", "027", "--listen", f"0.0.0.0:{free_port()}", "debug_app:app")
    status, report = check_json(*args, cwd=tmp_path)
    assert status == 1
    assert report["ok"] is False and report["counts"]["error"] == 1
    finding = report["findings"][0]
    assert (finding["id"], finding["level"]) == ("debug-app", "error")
    assert "werkzeug's DebuggedApplication at app" in finding["message"]
    assert "--allow-debug-app" in finding["fix"]


def test_warnings_alone_exit_0_and_the_app_output_stays_out_of_the_json(tmp_path):
    (tmp_path / "debug_app.py").write_text(DEBUG_APP, encoding="utf-8")
    result = run_cli(
        "check",
        "--format=json",
        *ACCOUNT,
        "--umask",
        "027",
        "--listen",
        f"127.0.0.1:{free_port()}",
        "debug_app:plain",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)  # the application's print went to stderr
    assert "imported, and printing to standard output" in result.stderr
    assert report["ok"] is True and report["counts"]["error"] == 0
    assert "tmp-location" in ids(report)  # pytest's tmp_path is under /tmp
    assert "debug-app" not in ids(report) and "no-app" not in ids(report)


def test_the_text_report_is_the_default(tmp_path):
    (tmp_path / "debug_app.py").write_text(DEBUG_APP, encoding="utf-8")
    port = free_port()
    result = run_cli(
        "check", *ACCOUNT, "--listen", f"0.0.0.0:{port}", "debug_app:app", cwd=tmp_path
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ERROR [debug-app] bastion would refuse to serve debug pages")
    assert f"on 0.0.0.0:{port}, which other hosts can reach" in lines[0]
    assert lines[1].startswith("    fix: turn them off")
    assert "WARNING [umask-loose] umask is unset" in result.stdout
    assert lines[-1].startswith("bastion check: 1 error, ")


def test_check_binds_nothing_even_where_the_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        status, report = check_json(
            *ACCOUNT, "--umask", "027", "--listen", f"127.0.0.1:{port}", cwd=tmp_path
        )
    assert status == 0
    assert "start-fails" not in ids(report)
    assert by_id(report, "no-app")["level"] == "info"


def test_an_application_that_cannot_be_imported_would_fail_the_start(tmp_path):
    status, report = check_json(*ACCOUNT, "no_such_module_bst:app", cwd=tmp_path)
    assert status == 1
    finding = by_id(report, "start-fails")
    assert "cannot import application 'no_such_module_bst:app'" in finding["message"]
    assert "no-app" not in ids(report)


def test_an_application_that_raises_on_import_would_fail_the_start(tmp_path):
    (tmp_path / "broken_app.py").write_text("raise RuntimeError('boom')\n", encoding="utf-8")
    status, report = check_json(*ACCOUNT, "broken_app:app", cwd=tmp_path)
    assert status == 1
    message = by_id(report, "start-fails")["message"]
    assert message.endswith("loading application 'broken_app:app' raised RuntimeError: boom")


def test_the_application_is_imported_from_working_directory(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "debug_app.py").write_text(DEBUG_APP, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    args = (*ACCOUNT, "--working-directory", str(site), "--listen", "[::1]:8080")
    status, report = check_json(*args, "debug_app:app", cwd=elsewhere)
    assert status == 0
    assert by_id(report, "debug-app-local")["level"] == "warning"
    assert (
        f"the working directory {site} is in a temporary"
        in by_id(report, "tmp-location")["message"]
    )


def test_a_bad_flag_exits_2(tmp_path):
    result = run_cli("check", "--format", "xml", cwd=tmp_path)
    assert result.returncode == 2
    assert "bastion check: error: argument --format" in result.stderr
    result = run_cli("check", "--threads", "none", cwd=tmp_path)
    assert result.returncode == 2
    assert "bastion check: error: invalid value for threads" in result.stderr


def test_serving_without_check_is_unchanged(tmp_path):
    result = run_cli("--listen", "127.0.0.1:0", "--print-config", cwd=tmp_path)
    assert result.returncode == 0 and 'listen = "127.0.0.1:0"' in result.stdout


# -- real frameworks ------------------------------------------------------------------------------


def test_django_with_debug_is_found_through_its_settings(tmp_path):
    (tmp_path / "djdebug.py").write_text(DJANGO_SITE.format(debug=True), encoding="utf-8")
    (tmp_path / "djquiet.py").write_text(DJANGO_SITE.format(debug=False), encoding="utf-8")
    everywhere = (*ACCOUNT, "--listen", "0.0.0.0:8080")
    status, report = check_json(*everywhere, "djdebug:application", cwd=tmp_path)
    assert status == 1
    assert "Django's settings.DEBUG is True" in by_id(report, "debug-app")["message"]
    status, report = check_json(*everywhere, "djquiet:application", cwd=tmp_path)
    assert not any(i.startswith("debug-app") for i in ids(report))


def test_serving_django_with_debug_on_every_address_is_refused(tmp_path):
    (tmp_path / "djdebug.py").write_text(DJANGO_SITE.format(debug=True), encoding="utf-8")
    result = run_cli("--listen", f"0.0.0.0:{free_port()}", "djdebug:application", cwd=tmp_path)
    assert result.returncode == 1
    assert "refusing to serve debug pages (Django's settings.DEBUG is True)" in result.stderr


def test_flask_in_debug_mode_is_found(tmp_path):
    (tmp_path / "flask_debug.py").write_text(FLASK_APP, encoding="utf-8")
    status, report = check_json(
        *ACCOUNT, "--listen", "0.0.0.0:8080", "flask_debug:app", cwd=tmp_path
    )
    assert status == 1
    assert "a Flask application with debug on at app" in by_id(report, "debug-app")["message"]
