"""bastion.check: each rule of the deployment checker, the survey of a start, and the reports.

Rules are given a ``Deployment`` built here (account, addresses, files), so that each runs
the same as root or not; ``check_start`` and the survey are tested on what they add.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
from pathlib import Path

import pytest

from bastion.check import (
    LEVEL_OF,
    Deployment,
    Finding,
    app_files,
    check,
    check_start,
    exit_status,
    render_json,
    render_text,
)
from bastion.config import Config
from bastion.process.privileges import Identity

HERE = Path(__file__).resolve().parent
# A directory no checkout location can put under /tmp (CI may clone there): the stdlib's.
NOT_TMP = Path(os.__file__).resolve().parent
APP_USER = Identity(4000001, "example-app", frozenset((4000001,)))
LOOPBACK = ((socket.AF_INET, ("127.0.0.1", 8080)),)
UNIX = ((socket.AF_UNIX, "/run/example.sock"),)
EVERYWHERE = ((socket.AF_INET, ("0.0.0.0", 8080)), (socket.AF_INET6, ("::", 8080, 0, 0)))


def plain_app(environ, start_response):
    start_response("200 OK", [])
    return [b"ok"]


class DebuggedApplication:
    """Werkzeug's debugger, as far as the guard can tell."""

    __module__ = "werkzeug.debug"

    def __init__(self, app):
        self.app = app


def deployment(
    *,
    app=plain_app,
    app_name="example:app",
    app_files=(),
    identity=APP_USER,
    addresses=LOOPBACK,
    working_directory=NOT_TMP,
    **options,
) -> Deployment:
    options.setdefault("umask", "027")
    return Deployment(
        config=Config.from_kwargs(**options),
        app=app,
        app_name=app_name,
        app_files=tuple(app_files),
        identity=identity,
        addresses=tuple(addresses),
        working_directory=working_directory,
    )


def found(d: Deployment, finding_id: str | None = None) -> list[Finding]:
    findings = check(d)
    return findings if finding_id is None else [f for f in findings if f.id == finding_id]


def test_a_well_set_deployment_has_no_findings():
    assert found(deployment()) == []
    assert (
        found(
            deployment(
                addresses=UNIX, trusted_proxy="unix", trusted_proxy_headers="x-forwarded-for"
            )
        )
        == []
    )


# -- the account --------------------------------------------------------------------------------


def test_root_without_user_is_an_error():
    [finding] = found(deployment(identity=Identity(0, "root", frozenset((0,)))))
    assert (finding.id, finding.level) == ("root-without-user", "error")
    assert "--user" in finding.fix


def test_user_naming_root_is_an_error():
    [finding] = found(deployment(identity=Identity(0, "root", frozenset((0,))), user="root"))
    assert (finding.id, finding.level) == ("user-root", "error")
    assert "'root'" in finding.message


@pytest.mark.parametrize("name", ["www-data", "apache", "http", "nginx", "nobody"])
def test_a_shared_account_is_a_warning(name):
    [finding] = found(deployment(identity=Identity(33, name, frozenset((33,)))))
    assert (finding.id, finding.level) == ("shared-user", "warning")
    assert f"{name} (33)" in finding.message


# -- network and proxies ------------------------------------------------------------------------


def test_listening_beyond_loopback_behind_a_proxy_is_a_warning():
    proxied = {"trusted_proxy": "127.0.0.1", "trusted_proxy_headers": "x-forwarded-for"}
    [finding] = found(deployment(addresses=EVERYWHERE, **proxied))
    assert (finding.id, finding.level) == ("exposed-behind-proxy", "warning")
    assert "0.0.0.0:8080, [::]:8080" in finding.message
    assert "127.0.0.1" in finding.fix
    assert found(deployment(addresses=LOOPBACK + UNIX, **proxied)) == []
    assert found(deployment(addresses=EVERYWHERE)) == []  # no proxy: exposed on purpose


def test_trusting_any_proxy_is_a_warning():
    any_proxy = deployment(trusted_proxy="*", trusted_proxy_headers="x-forwarded-for")
    [finding] = found(any_proxy)
    assert (finding.id, finding.level) == ("trusted-proxy-any", "warning")
    named = deployment(trusted_proxy="127.0.0.1", trusted_proxy_headers="x-forwarded-for")
    assert found(named, "trusted-proxy-any") == []


# -- files ----------------------------------------------------------------------------------------


@pytest.fixture
def code(tmp_path):
    """An application module in its own directory, both mode 755/644, owned by this process."""
    directory = tmp_path / "code"
    directory.mkdir(mode=0o755)
    module = directory / "example.py"
    module.write_text("app = None\n", encoding="utf-8")
    module.chmod(0o644)
    directory.chmod(0o755)
    return module


def test_code_owned_by_the_serving_account_is_writable_by_it(code):
    owner = os.getuid()
    if owner == 0:  # root is not checked for this: give the files to another account
        owner = 4000002
        for path in (code, code.parent):
            os.chown(path, owner, -1)
    me = Identity(owner, "me", frozenset((4000002,)))
    [finding] = found(deployment(identity=me, app_files=(code, code.parent)), "app-writable")
    assert finding.level == "warning"
    assert f"{code}, {code.parent}" in finding.message


def test_code_writable_through_a_group_or_by_anyone_is_found(code):
    group_member = Identity(4000003, "app", frozenset((os.getgid(),)))
    d = deployment(identity=group_member, app_files=(code, code.parent))
    assert found(d, "app-writable") == []
    code.chmod(0o664)
    [finding] = found(d, "app-writable")
    assert finding.message.endswith(f": {code}")
    code.chmod(0o644)
    code.parent.chmod(0o757)
    stranger = Identity(4000004, "app", frozenset((4000004,)))
    [finding] = found(deployment(identity=stranger, app_files=(code, code.parent)), "app-writable")
    assert str(code.parent) in finding.message


def test_a_root_account_is_not_reported_twice_for_writable_code(code):
    root = Identity(0, "root", frozenset((0,)))
    assert found(deployment(identity=root, app_files=(code,)), "app-writable") == []


def test_the_working_directory_or_the_code_in_a_temporary_directory_is_a_warning(code):
    [finding] = found(deployment(working_directory=code.parent), "tmp-location")
    assert finding.level == "warning"
    assert f"the working directory {code.parent} is in a temporary directory" in finding.message
    [finding] = found(deployment(app_files=(code, code.parent)), "tmp-location")
    assert f"the application's directory {code.parent}" in finding.message
    assert found(deployment(app_files=(NOT_TMP / "os.py", NOT_TMP)), "tmp-location") == []


def test_a_world_writable_file_or_directory_is_a_warning(code):
    d = deployment(app_files=(code, code.parent))
    assert found(d, "world-writable") == []
    code.parent.chmod(0o777)
    [finding] = found(d, "world-writable")
    assert finding.level == "warning"
    assert f"any user on the host can change {code.parent}" in finding.message
    assert finding.fix == f"chmod o-w {code.parent}"
    code.parent.chmod(0o755)
    code.chmod(0o646)
    [finding] = found(d, "world-writable")
    assert finding.fix == f"chmod o-w {code}"


def test_a_world_writable_parent_matters_unless_it_is_sticky(code):
    parent = code.parent.parent
    d = deployment(app_files=(code.parent,))
    parent.chmod(0o1777)  # like /tmp: others cannot rename what is not theirs
    assert found(d, "world-writable") == []
    parent.chmod(0o777)
    [finding] = found(d, "world-writable")
    assert finding.fix == f"chmod o-w {parent}"
    parent.chmod(0o755)


# -- the process --------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", ["022", "002", "007", "020"])
def test_a_umask_looser_than_027_is_a_warning(umask):
    [finding] = found(deployment(umask=umask))
    assert (finding.id, finding.level) == ("umask-loose", "warning")
    assert f"umask is 0{umask}" in finding.message


@pytest.mark.parametrize("umask", ["027", "077", "037"])
def test_a_umask_of_027_or_tighter_is_fine(umask):
    assert found(deployment(umask=umask)) == []


@pytest.fixture
def process_umask():
    mask = os.umask(0o002)
    yield
    os.umask(mask)


def test_without_umask_the_inherited_one_is_checked(process_umask):
    [finding] = found(deployment(umask=None))
    assert "umask is unset; the inherited one is 0002" in finding.message


def test_slow_client_timeouts_turned_off_or_too_long_are_warnings():
    [finding] = found(deployment(header_max_timeout=0))
    assert (finding.id, finding.level) == ("slow-client-timeout", "warning")
    assert "header_max_timeout is 0" in finding.message and "30" in finding.fix
    assert found(deployment(header_max_timeout=0, header_min_rate=0)) == []
    findings = found(deployment(header_timeout="10m", send_timeout=3600))
    assert [(f.id, f.message.split(" is ")[0]) for f in findings] == [
        ("slow-client-timeout", "header_timeout"),
        ("slow-client-timeout", "send_timeout"),
    ]
    assert findings[0].fix == "lower header_timeout (the default is 15)"


# -- debug pages --------------------------------------------------------------------------------


def test_debug_pages_beyond_loopback_are_an_error_naming_the_override():
    [finding] = found(deployment(app=DebuggedApplication(plain_app), addresses=EVERYWHERE))
    assert (finding.id, finding.level) == ("debug-app", "error")
    assert "werkzeug's DebuggedApplication at app" in finding.message
    assert "allow_debug_app (--allow-debug-app" in finding.fix


def test_debug_pages_with_allow_debug_app_or_on_loopback_are_warnings():
    debugged = DebuggedApplication(plain_app)
    [allowed] = found(deployment(app=debugged, addresses=EVERYWHERE, allow_debug_app=True))
    assert (allowed.id, allowed.level) == ("debug-app-allowed", "warning")
    [local] = found(deployment(app=debugged, addresses=LOOPBACK + UNIX))
    assert (local.id, local.level) == ("debug-app-local", "warning")


def test_expose_tracebacks_counts_as_debug_pages_even_without_an_application():
    d = deployment(app=None, app_name=None, addresses=EVERYWHERE, expose_tracebacks=True)
    assert [(f.id, f.level) for f in found(d)] == [("debug-app", "error"), ("no-app", "info")]
    assert "expose_tracebacks is on" in found(d)[0].message


# -- the survey of a start ----------------------------------------------------------------------


def test_a_start_that_would_fail_is_reported_once_errors_first():
    problem = Finding("start-fails", "error", "a real start would fail: user: x", "fix it")
    findings = check_start(
        Config.from_kwargs(user="no-such-user-bst", umask="022", listen="127.0.0.1:8080"),
        None,
        None,
        [problem],
    )
    ids = [f.id for f in findings]
    assert ids[:2] == ["start-fails", "start-fails"]
    assert "user: no such user 'no-such-user-bst'" in findings[1].message
    assert ids[-2:] == ["umask-loose", "no-app"]
    again = check_start(Config.from_kwargs(user="no-such-user-bst"), None, None, [findings[1]])
    assert [f.id for f in again].count("start-fails") == 1


def test_a_listen_address_that_does_not_resolve_would_fail_the_start():
    config = Config.from_kwargs(listen="no-such-host.invalid:80", user=str(os.geteuid()))
    [finding] = [f for f in check_start(config, None, None) if f.id == "start-fails"]
    assert "cannot resolve listen address 'no-such-host.invalid'" in finding.message


def test_app_files_are_the_module_its_directory_and_its_top_package(tmp_path, monkeypatch):
    package = tmp_path / "bst_checked_pkg"
    (package / "web").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "web" / "__init__.py").write_text("", encoding="utf-8")
    (package / "web" / "wsgi.py").write_text("app = None\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        __import__("bst_checked_pkg.web.wsgi")
        expected = [package / "web" / "wsgi.py", package / "web", package]
        assert list(app_files("bst_checked_pkg.web.wsgi:app")) == expected
        assert list(app_files("bst_checked_pkg.web.wsgi.app")) == expected
    finally:
        for name in ("bst_checked_pkg", "bst_checked_pkg.web", "bst_checked_pkg.web.wsgi"):
            sys.modules.pop(name, None)
    assert list(app_files("bst_not_imported:app")) == []


# -- reports ------------------------------------------------------------------------------------

FINDINGS = [
    Finding("root-without-user", "error", "runs as root", "set user"),
    Finding("umask-loose", "warning", "umask is 0022", "set umask"),
    Finding("no-app", "info", "no application", "name it"),
]


def test_exit_status_is_1_only_with_an_error():
    assert exit_status(FINDINGS) == 1
    assert exit_status(FINDINGS[1:]) == 0
    assert exit_status([]) == 0


def test_the_json_report_lists_every_finding_and_counts_them():
    report = json.loads(render_json(FINDINGS))
    assert report["ok"] is False
    assert report["counts"] == {"error": 1, "warning": 1, "info": 1}
    assert report["findings"][0] == {
        "id": "root-without-user",
        "level": "error",
        "message": "runs as root",
        "fix": "set user",
    }
    assert json.loads(render_json([])) == {
        "ok": True,
        "counts": {"error": 0, "warning": 0, "info": 0},
        "findings": [],
    }


def test_the_text_report_shows_level_id_message_and_fix():
    assert render_text(FINDINGS) == (
        "ERROR [root-without-user] runs as root\n"
        "    fix: set user\n"
        "WARNING [umask-loose] umask is 0022\n"
        "    fix: set umask\n"
        "INFO [no-app] no application\n"
        "    fix: name it\n"
        "bastion check: 1 error, 1 warning, 1 info\n"
    )
    assert render_text([]) == "bastion check: no findings\n"


def test_security_md_lists_every_finding_with_its_level_in_order():
    page = (HERE.parent / "docs" / "security.md").read_text(encoding="utf-8")
    section = page.split("## Deployment checks: `bastion check`", 1)[1]
    rows = re.findall(r"^\| `([a-z-]+)` \| (error|warning|info) \|", section, re.MULTILINE)
    assert rows == list(LEVEL_OF.items())


def test_every_finding_a_rule_makes_is_in_the_table():
    makers = Path(check.__code__.co_filename).read_text(encoding="utf-8")
    made = re.findall(r'_finding\(\s*"([a-z-]+)"', makers)
    assert sorted(set(made)) == sorted(LEVEL_OF)
