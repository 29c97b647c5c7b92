"""The options table: consistent entries, waitress's option set, and docs/options.md kept fresh."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import waitress.adjustments

from bastion.config import OPTIONS, Config
from bastion.config.docs import render
from bastion.config.options import BY_NAME, SECTIONS, WAITRESS_OPTIONS

ROOT = Path(__file__).resolve().parents[2]

# The adjustments waitress 3.0 documents for serve(); bastion accepts each by the same name.
WAITRESS_NAMES = (
    "host",
    "port",
    "listen",
    "threads",
    "trusted_proxy",
    "trusted_proxy_count",
    "trusted_proxy_headers",
    "log_untrusted_proxy_headers",
    "clear_untrusted_proxy_headers",
    "url_scheme",
    "url_prefix",
    "ident",
    "backlog",
    "recv_bytes",
    "send_bytes",
    "outbuf_overflow",
    "outbuf_high_watermark",
    "inbuf_overflow",
    "connection_limit",
    "cleanup_interval",
    "channel_timeout",
    "log_socket_errors",
    "max_request_header_size",
    "max_request_body_size",
    "expose_tracebacks",
    "unix_socket",
    "unix_socket_perms",
    "socket_options",
    "sockets",
    "ipv4",
    "ipv6",
    "asyncore_use_poll",
    "asyncore_loop_timeout",
    "channel_request_lookahead",
    "server_name",
)

BASTION_OWN = {
    "max_request_line": 8192,
    "max_request_header_fields": 100,
    "graceful_timeout": 30.0,
    "access_log": None,
    "access_log_format": "combined",
    "trusted_proxy_mode": "count",
    "proxy_protocol": False,
    "proxy_protocol_headers": False,
    "unix_socket_owner": None,
    "max_connections_per_ip": 0,
    "max_queued_requests": 512,
    "retry_after": 5,
    "header_timeout": 15.0,
    "header_max_timeout": 30.0,
    "header_min_rate": 500,
    "body_timeout": 15.0,
    "body_max_timeout": 0.0,
    "body_min_rate": 500,
    "send_timeout": 60.0,
    "send_min_rate": 500,
    "request_timeout": 0.0,
    "request_timeout_interrupt": False,
    "user": None,
    "group": None,
    "umask": None,
    "working_directory": None,
    "allowed_hosts": None,
    "allowed_ports": None,
    "www_redirect": True,
    "allowed_hosts_exempt_paths": (),
    "allow_debug_app": False,
    "pass_authorization": True,
}


def test_waitress_options_are_exactly_the_table_entries_marked_waitress():
    assert sorted(WAITRESS_OPTIONS) == sorted(WAITRESS_NAMES)


def test_every_waitress_adjustment_parameter_is_an_option():
    names = {name for name, _ in waitress.adjustments.Adjustments._params}
    assert names <= set(WAITRESS_OPTIONS)


def test_bastion_own_options_and_their_defaults():
    own = {option.name: option.default for option in OPTIONS if not option.waitress}
    assert own == BASTION_OWN


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.name)
def test_default_survives_its_own_converter(option):
    if option.name == "sockets":
        assert option.convert(option.default) == ()
    else:
        assert option.convert(option.default) == option.default


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.name)
def test_entry_is_complete(option):
    assert option.name.isidentifier() and option.name.islower()
    assert option.help.endswith(".") and len(option.help) > 20
    assert option.section in dict(SECTIONS)
    assert option.convert.accepts
    if option.differs_from_waitress:
        assert option.why_different
    if option.cli_flag and not option.is_flag:
        assert option.metavar


def test_defaults_that_differ_from_waitress_are_recorded_with_waitress_values():
    adjustments = waitress.adjustments.Adjustments
    differing = {o.name: o.waitress_default for o in OPTIONS if o.differs_from_waitress}
    assert differing == {
        "connection_limit": 100,
        "ident": "waitress",
        "server_name": "waitress.invalid",
        "send_bytes": 1,
    }
    for name, value in differing.items():
        assert getattr(adjustments, name) == value


def test_every_other_waitress_default_is_waitress_own():
    adjustments = waitress.adjustments.Adjustments()
    config = Config.from_layers([])
    skip = {"listen", "sockets", "trusted_proxy_headers", "socket_options", "unix_socket_perms"}
    for option in OPTIONS:
        if not option.waitress or option.differs_from_waitress or option.name in skip:
            continue
        assert getattr(config, option.name) == getattr(adjustments, option.name), option.name
    assert config.unix_socket_perms == adjustments.unix_socket_perms
    assert list(config.socket_options) == list(adjustments.socket_options)
    assert config.trusted_proxy_headers == adjustments.trusted_proxy_headers == set()


def test_env_vars_and_flags_are_derived_from_names():
    threads = BY_NAME["threads"]
    assert threads.env_var == "BASTION_THREADS"
    assert threads.cli_flag == "--threads"
    assert BY_NAME["max_request_body_size"].cli_flag == "--max-request-body-size"
    assert BY_NAME["sockets"].cli_flag is None and BY_NAME["sockets"].env_var is None


def test_docs_options_md_is_up_to_date():
    committed = (ROOT / "docs" / "options.md").read_text(encoding="utf-8")
    assert committed == render(), (
        "docs/options.md is stale: run python -m bastion.config.docs > docs/options.md"
    )


def test_docs_module_prints_the_same_text():
    result = subprocess.run(
        [sys.executable, "-m", "bastion.config.docs"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == render()


def test_docs_mention_every_option_and_the_differences():
    text = render()
    for option in OPTIONS:
        assert f"### `{option.name}`" in text
    assert "| `connection_limit` | `10000` | `100` |" in text


def test_migration_guide_names_every_default_that_differs_and_every_no_effect_option():
    guide = (ROOT / "docs" / "migrating-from-waitress.md").read_text(encoding="utf-8")
    for option in OPTIONS:
        if option.differs_from_waitress or option.section == "compat" or not option.waitress:
            assert f"`{option.name}`" in guide, f"{option.name} missing from the migration guide"
