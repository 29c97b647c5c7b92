"""Every rule between options is checked once, when the configuration is built.

So ``Config.from_kwargs``, ``serve()`` and the command line (``--print-config``, serving,
``bastion check``) refuse the same combinations with the same message, before anything is
bound.  The rules themselves are tested where they live (bastion.proxy.rules,
bastion.process.privileges, the config model); here, that every way in meets them alike.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import pytest
from bastion_testing import clean_env, run_cli

import bastion
from bastion.config import Config
from bastion.config.options import BY_NAME
from bastion.errors import ConfigError
from bastion.server import opening as opening_module
from bastion.server import server as server_module

# (options, the option blamed, the message)
REFUSED = [
    (
        {"trusted_proxy": "*", "trusted_proxy_mode": "walk"},
        "trusted_proxy_mode",
        "trusted_proxy_mode: 'walk' skips trusted addresses, so trusted_proxy must list "
        "addresses or networks, not '*'",
    ),
    (
        {"trusted_proxy": "*", "trusted_proxy_mode": "walk", "trusted_proxy_headers": "forwarded"},
        "trusted_proxy_mode",
        "trusted_proxy_mode: 'walk' skips trusted addresses, so trusted_proxy must list "
        "addresses or networks, not '*'",
    ),
    (
        {"proxy_protocol": True, "trusted_proxy_headers": "x-forwarded-for"},
        "proxy_protocol",
        "proxy_protocol requires trusted_proxy: name the proxies allowed to send the PROXY "
        "preamble (addresses, CIDR networks, 'local' or 'unix')",
    ),
    (
        {"trusted_proxy": "10.0.0.1", "proxy_protocol_headers": True},
        "proxy_protocol_headers",
        "proxy_protocol_headers applies only with proxy_protocol: without the preamble, "
        "trusted_proxy_headers from trusted_proxy peers count already",
    ),
    (
        {"unix_socket_owner": "root"},
        "unix_socket_owner",
        "unix_socket_owner is set, but bastion creates no unix socket file (it applies to "
        "unix_socket only; sockets passed in keep their owner)",
    ),
    (
        {"unix_socket": "/tmp/bastion-rules.sock", "unix_socket_owner": "a:b:c"},
        "unix_socket_owner",
        "unix_socket_owner: 'a:b:c' is not 'user', 'user:group' or ':group'",
    ),
    (
        {"ipv4": False, "ipv6": False},
        "ipv4",
        "ipv4 and ipv6 are both off: enable at least one",
    ),
]
IDS = [
    "walk-any",
    "walk-any-headers",
    "preamble-untrusted",
    "preamble-headers-alone",
    "owner-no-socket",
    "owner-form",
    "no-family",
]


@pytest.fixture(autouse=True)
def _no_bastion_env(monkeypatch):
    for var in [v for v in os.environ if v.startswith("BASTION_")]:
        monkeypatch.delenv(var)


def flags(options: dict[str, Any]) -> list[str]:
    """The command-line flags that set ``options``."""
    argv = []
    for name, value in options.items():
        flag = BY_NAME[name].cli_flag
        assert flag is not None
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        else:
            argv += [flag, str(value)]
    return argv


@pytest.mark.parametrize(("options", "option", "message"), REFUSED, ids=IDS)
def test_the_configuration_refuses(options, option, message):
    with pytest.raises(ConfigError) as info:
        Config.from_kwargs(**options)
    assert str(info.value) == message
    assert (info.value.option, info.value.source) == (option, "argument")


@pytest.mark.parametrize(("options", "option", "message"), REFUSED, ids=IDS)
def test_serve_refuses_before_binding(monkeypatch, options, option, message):
    def bind(config: Any) -> Any:
        raise AssertionError("serve() bound a socket")

    monkeypatch.setattr(opening_module, "create_listeners", bind)
    with pytest.raises(ConfigError) as info:
        bastion.serve(lambda environ, start_response: [], **options)
    assert str(info.value) == message


@pytest.mark.parametrize("mode", ["print-config", "serve", "check"])
@pytest.mark.parametrize(("options", "option", "message"), REFUSED, ids=IDS)
def test_the_command_line_refuses(tmp_path, mode, options, option, message):
    argv = flags(options)
    if mode == "check":
        argv = ["check", *argv]
    elif mode == "print-config":
        argv.append("--print-config")
    elif "unix_socket" not in options:
        argv += ["--listen", "127.0.0.1:0"]  # were the rule not applied, nothing in use
    result = run_cli(*argv, cwd=tmp_path, env=clean_env())
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    prog = "bastion check" if mode == "check" else "bastion"
    line = result.stderr.splitlines()[-1]
    # The command adds the flag that set the value, when the message does not say it already.
    source = f"flag {BY_NAME[option].cli_flag}"
    expected = message if source in message else f"{message} (set by {source})"
    assert line == f"{prog}: error: {expected}"


def test_print_config_shows_what_a_start_would_use(tmp_path):
    """A combination --print-config accepts starts as printed (the issue's example, fixed)."""
    argv = ["--trusted-proxy", "10.0.0.0/8", "--trusted-proxy-mode", "walk", "--print-config"]
    result = run_cli(*argv, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'trusted_proxy_mode = "walk"' in result.stdout
    assert 'trusted_proxy_headers = "x-forwarded-proto"' in result.stdout


def test_the_rules_apply_once():
    """What the configuration implied is what the server compiles: nothing is re-derived."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        config = Config.from_kwargs(trusted_proxy="10.0.0.1")
    policy = server_module._proxy_policy(config)
    assert policy is not None
    assert policy.headers == config.trusted_proxy_headers == {"x-forwarded-proto"}
    config = Config.from_kwargs(trusted_proxy_headers="x-forwarded-for")
    assert config.trusted_proxy == ("local",)
    assert config.sources["trusted_proxy"] == "implied by trusted_proxy_headers"
