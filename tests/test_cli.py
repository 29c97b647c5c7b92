"""The ``bastion`` command: flags, --print-config, errors and exit codes, and serving for real."""

from __future__ import annotations

import http.client
import importlib.metadata
import os
import socket
import sys

import pytest
from bastion_testing import CliProcess, clean_env, free_port, run_cli

from bastion import __version__
from bastion.cli import AppLoadError, build_parser, load_app, main

START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0


def get(port: int, path: str = "/") -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


# -- flags and messages ------------------------------------------------------------------------


def test_help_lists_waitress_flags_and_bastion_flags(tmp_path):
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for flag in (
        "usage: bastion [OPTIONS] [MODULE:OBJECT]",
        "--call",
        "--listen HOST:PORT",
        "--host ADDR",
        "--port PORT",
        "--ipv6, --no-ipv6",
        "--expose-tracebacks, --no-expose-tracebacks",
        "--unix-socket-perms PERMS",
        "--asyncore-use-poll",
        "--config FILE",
        "--print-config",
        "--access-log PATH",
        "--access-log-format FORMAT",
        "--version",
    ):
        assert flag in result.stdout, flag


def test_version(tmp_path):
    result = run_cli("--version", cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, f"bastion {__version__}")


def test_print_config_shows_values_and_origins_with_precedence(tmp_path):
    (tmp_path / "bastion.toml").write_text(
        'threads = 2\nbacklog = 20\nident = "file"\nrecv_bytes = 1000\n', encoding="utf-8"
    )
    result = run_cli(
        "--config",
        "bastion.toml",
        "--ident",
        "cli",
        "--no-ipv6",
        "--print-config",
        cwd=tmp_path,
        env=clean_env(BASTION_BACKLOG="30", BASTION_IDENT="env"),
    )
    assert result.returncode == 0, result.stderr
    settings = {}
    for line in result.stdout.splitlines():
        if not line.startswith("#"):
            setting, origin = line.split("  # ")
            name, value = setting.strip().split(" = ")
            settings[name] = (value, origin)
    assert settings["ident"] == ('"cli"', "flag --ident")
    assert settings["ipv6"] == ("false", "flag --ipv6")
    assert settings["backlog"] == ("30", "env BASTION_BACKLOG")
    assert settings["threads"] == ("2", "file bastion.toml")
    assert settings["recv_bytes"] == ("1000", "file bastion.toml")
    assert settings["connection_limit"] == ("10000", "default")
    assert "# unix_socket is unset" in result.stdout


def test_repeated_listen_flags_are_joined(capsys):
    assert main(["--listen", "127.0.0.1:1", "--listen=[::1]:2", "--print-config"]) == 0
    assert 'listen = "127.0.0.1:1 [::1]:2"' in capsys.readouterr().out


def test_bad_flag_value_exits_2_naming_the_option(tmp_path):
    result = run_cli("--threads", "lots", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid value for threads (flag --threads)" in result.stderr
    assert "an integer >= 1" in result.stderr


def test_bad_choice_exits_2_listing_the_choices(capsys):
    assert main(["--access-log-format", "xml", "--print-config"]) == 2
    assert "one of 'combined', 'json'" in capsys.readouterr().err


def test_unknown_flag_exits_2(capsys):
    assert main(["--no-such-flag"]) == 2
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err


def test_unknown_environment_variable_warns_and_does_not_stop(tmp_path):
    """Issue 11 item 3: BASTION_SSH_KEY is someone else's; bastion says so and goes on."""
    env = clean_env(BASTION_SSH_KEY="/root/.ssh/id", BASTION_THREAD="3")
    result = run_cli("--print-config", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "ignoring environment variable BASTION_SSH_KEY" in result.stderr
    assert "BASTION_THREAD:" in result.stderr
    assert "did you mean 'BASTION_THREADS'" in result.stderr
    assert "threads = 4" in result.stdout


def test_environment_reaches_the_command(tmp_path):
    result = run_cli("--print-config", cwd=tmp_path, env=clean_env(BASTION_THREADS="7"))
    assert result.returncode == 0, result.stderr
    assert "threads = 7" in result.stdout and "env BASTION_THREADS" in result.stdout


@pytest.mark.skipif(os.name == "nt", reason="accounts are Unix-only")
def test_no_such_user_names_the_environment_variable(tmp_path):
    env = clean_env(BASTION_USER="nosuchuser-bastion")
    result = run_cli("--listen", "127.0.0.1:0", cwd=tmp_path, env=env)
    assert result.returncode != 0
    assert "no such user 'nosuchuser-bastion'" in result.stderr
    assert "BASTION_USER" in result.stderr


def test_abbreviated_flag_is_refused_with_a_suggestion(tmp_path):
    for prefix in ((), ("check",)):
        result = run_cli(*prefix, "--thread", "3", "--print-config", cwd=tmp_path)
        assert result.returncode == 2, prefix
        assert "usage: bastion" in result.stderr
        assert "--thread; did you mean --threads?" in result.stderr


def test_misspelt_flag_gets_the_nearest_flag(tmp_path):
    result = run_cli("--listne", "127.0.0.1:8080", "--print-config", cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: bastion [OPTIONS] [MODULE:OBJECT]" in result.stderr
    assert "did you mean --listen?" in result.stderr


@pytest.mark.parametrize(
    ("value", "flag"),
    [
        ("127.0.0.1:8080", "--listen"),
        ("[::1]:80", "--listen"),
        ("*:8080", "--listen"),
        ("8080", "--port"),
        ("/tmp/app.sock", "--unix-socket"),
    ],
)
def test_a_value_in_place_of_the_application_is_explained(value, flag, capsys):
    assert main([value, "--print-config"]) == 2
    err = capsys.readouterr().err
    assert "usage: bastion" in err
    assert f"bastion: error: {value!r} is not MODULE:OBJECT; did you mean {flag} {value}?" in err


def test_a_positional_address_is_explained_by_the_command(tmp_path):
    result = run_cli("127.0.0.1:8080", cwd=tmp_path)
    assert result.returncode == 2
    assert (
        "'127.0.0.1:8080' is not MODULE:OBJECT; did you mean --listen 127.0.0.1:8080?"
        in result.stderr
    )


def test_a_dotted_module_object_name_is_still_accepted(tmp_path):
    result = run_cli("pkg.mod:app", "--print-config", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_unknown_config_file_key_exits_2(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text("thread = 3\n", encoding="utf-8")
    assert main(["--config", str(path), "--print-config"]) == 2
    assert "did you mean 'threads'" in capsys.readouterr().err


def test_conflicting_flags_exit_2(capsys):
    assert main(["--listen", "127.0.0.1:1", "--port", "2", "--print-config"]) == 2
    assert "cannot be used together" in capsys.readouterr().err


def test_unknown_application_exits_1(tmp_path):
    result = run_cli("--listen", "127.0.0.1:0", "no_such_module_xyz:app", cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot import application 'no_such_module_xyz:app'" in result.stderr
    assert "No module named 'no_such_module_xyz'" in result.stderr


def test_address_in_use_exits_1(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_cli("--listen", f"127.0.0.1:{port}", cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot listen" in result.stderr and "in use" in result.stderr


def test_missing_attribute_exits_1(tmp_path, capsys, monkeypatch):
    (tmp_path / "cli_app_attr.py").write_text("x = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert main(["--listen", "127.0.0.1:0", "cli_app_attr:nope"]) == 1
    assert "cannot import application 'cli_app_attr:nope'" in capsys.readouterr().err


def test_load_app_resolves_dotted_objects_and_calls_with_call(tmp_path, monkeypatch):
    from bastion.config.converters import to_bool

    monkeypatch.setattr(sys, "path", list(sys.path))
    assert load_app("bastion.demo:app").__name__ == "app"
    assert load_app("bastion.config.converters:to_bool.func") is to_bool.func
    (tmp_path / "cli_call_app.py").write_text(
        "def app(environ, start_response):\n    return []\ndef factory():\n    return app\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    assert load_app("cli_call_app:factory", call=True).__name__ == "app"
    assert str(tmp_path) in sys.path


def test_load_app_refuses_what_is_not_callable():
    with pytest.raises(AppLoadError, match="not callable"):
        load_app("bastion.cli:DEMO_APP")


def test_parser_has_a_flag_for_every_cli_option():
    flags = {s for action in build_parser()._actions for s in action.option_strings}
    assert {"--threads", "--no-log-socket-errors", "--graceful-timeout", "--call"} <= flags
    assert "--sockets" not in flags


def test_console_script_and_paste_entry_points_are_declared():
    scripts = importlib.metadata.entry_points(group="console_scripts", name="bastion")
    assert [ep.value for ep in scripts] == ["bastion.cli:main"]
    runners = importlib.metadata.entry_points(group="paste.server_runner", name="main")
    assert "bastion.paste:serve_paste" in [ep.value for ep in runners]


# -- serving for real ----------------------------------------------------------------------------


def test_serves_the_demo_page_and_stops_on_sigterm(tmp_path):
    port = free_port()
    with CliProcess("--listen", f"127.0.0.1:{port}", cwd=tmp_path) as served:
        served.wait_for(f"Serving on http://127.0.0.1:{port}", START_TIMEOUT)
        status, headers, body = get(port)
        assert status == 200
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert f"bastion {__version__} is running" in body
        assert get(port, "/%3Cscript%3E")[0] == 404
        assert served.stop(STOP_TIMEOUT) == 0


def test_serves_an_application_from_the_current_directory_with_call(tmp_path):
    (tmp_path / "cli_factory_app.py").write_text(
        "def make():\n"
        "    def app(environ, start_response):\n"
        "        start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "        return [b'made by factory']\n"
        "    return app\n",
        encoding="utf-8",
    )
    port = free_port()
    args = ["--call", "--port", str(port), "--host", "127.0.0.1", "--ident", "shop"]
    with CliProcess(*args, "cli_factory_app:make", cwd=tmp_path) as served:
        served.wait_for(f"Serving on http://127.0.0.1:{port}", START_TIMEOUT)
        status, headers, body = get(port)
        assert (status, body, headers["Server"]) == (200, "made by factory", "shop")
        assert served.stop(STOP_TIMEOUT) == 0
