"""Sources of option values: environment, TOML file, command line, and their precedence."""

from __future__ import annotations

import logging
import os

import pytest

from bastion.cli import build_parser, load_config
from bastion.config import Config
from bastion.config import sources as src
from bastion.errors import ConfigError


@pytest.fixture(autouse=True)
def _no_bastion_env(monkeypatch):
    for var in [v for v in os.environ if v.startswith("BASTION_")]:
        monkeypatch.delenv(var)


@pytest.fixture
def toml_file(tmp_path):
    def write(text: str) -> str:
        path = tmp_path / "bastion.toml"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def test_env_layer_reads_bastion_variables_only():
    layer = src.from_env({"BASTION_THREADS": "8", "PATH": "/bin", "HOME": "/root"})
    assert layer.values == {"threads": "8"}
    assert layer.origin("threads") == "env BASTION_THREADS"


def test_unknown_bastion_variable_is_a_warning_with_a_suggestion(caplog):
    with caplog.at_level(logging.WARNING, logger="bastion"):
        layer = src.from_env({"BASTION_THREAD": "8", "BASTION_IDENT": "x"})
    assert layer.values == {"ident": "x"}
    [record] = caplog.records
    assert record.levelname == "WARNING" and record.name == "bastion.config"
    message = record.getMessage()
    assert "BASTION_THREAD" in message
    assert "did you mean 'BASTION_THREADS'?" in message


def test_unrelated_bastion_variable_is_a_warning_naming_it(caplog):
    with caplog.at_level(logging.WARNING, logger="bastion"):
        layer = src.from_env({"BASTION_SSH_KEY": "/root/.ssh/id"})
    assert layer.values == {}
    assert "BASTION_SSH_KEY: it names no bastion option" in caplog.text


def test_sockets_cannot_come_from_the_environment(caplog):
    with caplog.at_level(logging.WARNING, logger="bastion"):
        assert src.from_env({"BASTION_SOCKETS": "3"}).values == {}
    assert "BASTION_SOCKETS: option 'sockets' can only be set from Python" in caplog.text


def test_serve_and_from_kwargs_read_no_environment(monkeypatch, caplog):
    """Issue 11 item 3: serve(), PasteDeploy and Config.from_kwargs take keywords only."""
    monkeypatch.setenv("BASTION_THREADS", "6")
    monkeypatch.setenv("BASTION_SSH_KEY", "/root/.ssh/id")  # no warning either: not read
    with caplog.at_level(logging.WARNING, logger="bastion"):
        config = Config.from_kwargs(ident="from-kwargs")
    assert not caplog.records
    assert config.threads == 4 and config.sources["threads"] == "default"
    assert config.ident == "from-kwargs" and config.sources["ident"] == "argument"


def test_the_command_honours_the_environment(monkeypatch):
    monkeypatch.setenv("BASTION_THREADS", "6")
    config = load_config(build_parser().parse_args([]))
    assert config.threads == 6 and config.sources["threads"] == "env BASTION_THREADS"
    config = load_config(build_parser().parse_args(["--threads", "3"]))
    assert config.threads == 3 and config.sources["threads"] == "flag --threads"


def test_ill_typed_env_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("BASTION_EXPOSE_TRACEBACKS", "sometimes")
    with pytest.raises(ConfigError) as info:
        load_config(build_parser().parse_args([]))
    assert "expose_tracebacks (env BASTION_EXPOSE_TRACEBACKS)" in str(info.value)
    assert "true/false" in str(info.value)


def test_toml_file_with_native_types(toml_file):
    path = toml_file(
        'listen = ["127.0.0.1:8001", "[::1]:8002"]\n'
        "threads = 2\n"
        "expose_tracebacks = true\n"
        "channel_timeout = 1.5\n"
        'trusted_proxy = "10.0.0.1"\n'
        'trusted_proxy_headers = ["x-forwarded-for", "x-forwarded-proto"]\n'
        "unix_socket_perms = 0o660\n"
        'max_request_body_size = "10M"\n'
    )
    config = Config.from_layers([src.from_file(path)])
    assert config.listen == (("127.0.0.1", 8001), ("::1", 8002))
    assert (config.threads, config.expose_tracebacks, config.channel_timeout) == (2, True, 1.5)
    assert config.trusted_proxy_headers == {"x-forwarded-for", "x-forwarded-proto"}
    assert config.unix_socket_perms == 0o660
    assert config.max_request_body_size == 10 * 1024 * 1024
    assert config.sources["threads"] == f"file {path}"


def test_unknown_toml_key_is_an_error_with_a_suggestion(toml_file):
    path = toml_file("max_request_body = 10\n")
    with pytest.raises(ConfigError) as info:
        src.from_file(path)
    assert "unknown option 'max_request_body'" in str(info.value)
    assert path in str(info.value)
    assert "did you mean 'max_request_body_size'?" in str(info.value)


def test_dashed_toml_key_suggests_the_underscored_name(toml_file):
    with pytest.raises(ConfigError, match="did you mean 'connection_limit'"):
        src.from_file(toml_file("connection-limit = 10\n"))


def test_tables_in_the_toml_file_are_unknown_keys(toml_file):
    with pytest.raises(ConfigError, match="unknown option 'server'"):
        src.from_file(toml_file("[server]\nthreads = 2\n"))


def test_invalid_toml_is_a_config_error(toml_file):
    with pytest.raises(ConfigError, match="not valid TOML"):
        src.from_file(toml_file("threads = = 2\n"))


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        src.from_file(str(tmp_path / "absent.toml"))


def test_ill_typed_file_value_names_the_file(toml_file):
    path = toml_file('threads = "lots"\n')
    with pytest.raises(ConfigError, match=f"threads \\(file {path}\\)"):
        Config.from_layers([src.from_file(path)])


def test_cli_layer_labels_values_with_their_flag():
    layer = src.from_cli({"max_request_body_size": "1"})
    assert layer.origin("max_request_body_size") == "flag --max-request-body-size"


def test_precedence_cli_over_env_over_file_over_default(toml_file):
    path = toml_file('threads = 2\nbacklog = 20\nident = "file"\nrecv_bytes = 1000\n')
    env = {"BASTION_BACKLOG": "30", "BASTION_IDENT": "env"}
    config = Config.from_layers(
        [src.from_cli({"ident": "cli"}), src.from_env(env), src.from_file(path)]
    )
    assert config.ident == "cli" and config.sources["ident"] == "flag --ident"
    assert config.backlog == 30 and config.sources["backlog"] == "env BASTION_BACKLOG"
    assert config.threads == 2 and config.sources["threads"] == f"file {path}"
    assert config.recv_bytes == 1000
    assert config.inbuf_overflow == 524288 and config.sources["inbuf_overflow"] == "default"


def test_address_from_a_higher_source_replaces_a_different_one_from_a_lower(toml_file):
    path = toml_file('listen = "127.0.0.1:7000"\n')
    config = Config.from_layers([src.from_cli({"port": "9000"}), src.from_file(path)])
    assert config.listen == (("0.0.0.0", 9000),)
    assert config.sources["listen"] == "from host/port: flag --port"


def test_host_and_port_merge_across_sources(toml_file):
    path = toml_file('host = "127.0.0.1"\n')
    config = Config.from_layers([src.from_env({"BASTION_PORT": "9001"}), src.from_file(path)])
    assert config.listen == (("127.0.0.1", 9001),)


def test_listen_from_env_replaces_unix_socket_from_file(toml_file):
    path = toml_file('unix_socket = "/tmp/b.sock"\n')
    env = {"BASTION_LISTEN": "127.0.0.1:9002"}
    config = Config.from_layers([src.from_env(env), src.from_file(path)])
    assert config.listen == (("127.0.0.1", 9002),)
    assert config.unix_socket is None
    assert config.sources["unix_socket"].startswith("default; overridden by listen")


def test_conflicting_addresses_within_one_source_are_an_error(toml_file):
    path = toml_file('listen = "127.0.0.1:7000"\nport = 9000\n')
    with pytest.raises(ConfigError, match="cannot be used together"):
        Config.from_layers([src.from_file(path)])


def test_pass_authorization_comes_from_every_source(toml_file, monkeypatch):
    """Issue 9 point 10: on by default (as waitress), off from a flag, variable or file."""
    assert Config.from_kwargs().pass_authorization is True
    assert Config.from_kwargs(pass_authorization="no").pass_authorization is False
    flag = build_parser().parse_args(["--no-pass-authorization"])
    assert load_config(flag).pass_authorization is False
    path = toml_file("pass_authorization = false\n")
    assert Config.from_layers([src.from_file(path)]).pass_authorization is False
    monkeypatch.setenv("BASTION_PASS_AUTHORIZATION", "off")
    assert load_config(build_parser().parse_args([])).pass_authorization is False
