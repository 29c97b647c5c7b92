"""Config: building from keywords, the rules that span options, and waitress's coercions."""

from __future__ import annotations

import dataclasses
import os
import socket
import warnings

import pytest
import waitress.adjustments

from bastion.config import OPTIONS, Config
from bastion.errors import BastionError, ConfigError


@pytest.fixture(autouse=True)
def _no_bastion_env(monkeypatch):
    for var in [v for v in os.environ if v.startswith("BASTION_")]:
        monkeypatch.delenv(var)


def test_defaults_come_from_the_table():
    config = Config.from_kwargs()
    for option in OPTIONS:
        if option.name != "trusted_proxy_count":
            assert getattr(config, option.name) == option.default, option.name
        assert config.sources[option.name] == "default"
    assert config.listen == (("0.0.0.0", 8080),)
    assert config.trusted_proxy_count == 1


def test_keywords_are_converted_and_recorded_as_arguments():
    config = Config.from_kwargs(threads="8", expose_tracebacks="yes", channel_timeout=5)
    assert (config.threads, config.expose_tracebacks, config.channel_timeout) == (8, True, 5.0)
    assert config.sources["threads"] == "argument"


def test_config_is_frozen():
    config = Config.from_kwargs()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.threads = 9
    with pytest.raises(AttributeError):
        del config.threads
    assert config.threads == 4


def test_equal_configs_compare_and_hash_equal():
    assert Config.from_kwargs(threads=2) == Config.from_kwargs(threads="2")
    assert hash(Config.from_kwargs(threads=2)) == hash(Config.from_kwargs(threads="2"))
    assert Config.from_kwargs(threads=2) != Config.from_kwargs(threads=3)


def test_repr_shows_the_values_that_are_not_defaults():
    assert repr(Config.from_kwargs(threads=2)) == "Config(threads=2)"


def test_unknown_option_is_an_error_with_a_suggestion():
    with pytest.raises(ConfigError) as info:
        Config.from_kwargs(thread=8)
    message = str(info.value)
    assert "unknown option 'thread'" in message and "did you mean 'threads'?" in message
    assert info.value.option == "thread"


def test_unknown_option_without_a_near_miss_has_no_suggestion():
    with pytest.raises(ConfigError) as info:
        Config.from_kwargs(zzzzzz=1)
    assert "did you mean" not in str(info.value)


def test_config_error_is_a_value_error_under_bastion_error():
    assert issubclass(ConfigError, ValueError) and issubclass(ConfigError, BastionError)


def test_ill_typed_option_names_the_option_and_what_it_accepts():
    with pytest.raises(ConfigError) as info:
        Config.from_kwargs(threads="many")
    message = str(info.value)
    assert message == ("invalid value for threads (argument): expected an integer >= 1, got 'many'")
    assert info.value.option == "threads" and info.value.source == "argument"


def test_host_and_port_make_the_listen_list():
    config = Config.from_kwargs(host="127.0.0.1", port="9000")
    assert config.listen == (("127.0.0.1", 9000),)
    assert Config.from_kwargs(port=0).listen == (("0.0.0.0", 0),)
    assert Config.from_kwargs(host="[::1]").listen == (("::1", 8080),)


def test_listen_is_parsed():
    config = Config.from_kwargs(listen="127.0.0.1:8080 [::1]:9000 *:7000")
    assert config.listen == (("127.0.0.1", 8080), ("::1", 9000), ("*", 7000))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"listen": "127.0.0.1:80", "host": "127.0.0.1"},
        {"listen": "127.0.0.1:80", "port": 80},
        {"listen": "127.0.0.1:80", "unix_socket": "/tmp/x.sock"},
        {"unix_socket": "/tmp/x.sock", "port": 80},
    ],
)
def test_alternative_ways_to_listen_conflict(kwargs):
    with pytest.raises(ConfigError, match="cannot be used together"):
        Config.from_kwargs(**kwargs)


def test_sockets_conflict_with_listen_and_host():
    with socket.socket() as sock:
        for other in ({"listen": "127.0.0.1:80"}, {"host": "x"}, {"unix_socket": "/tmp/s"}):
            with pytest.raises(ConfigError, match="sockets"):
                Config.from_kwargs(sockets=[sock], **other)
        config = Config.from_kwargs(sockets=[sock])
        assert config.sockets == (sock,) and config.listen == ()


def test_unix_socket_leaves_nothing_to_bind_on_tcp():
    config = Config.from_kwargs(unix_socket="/tmp/bastion.sock", unix_socket_perms="660")
    assert config.listen == () and config.unix_socket_perms == 0o660


def test_ipv4_and_ipv6_cannot_both_be_off():
    with pytest.raises(ConfigError, match="ipv4 and ipv6"):
        Config.from_kwargs(ipv4=False, ipv6="no")


def test_trusted_proxy_count_without_trusted_proxy_is_kept():
    # waitress refuses this (seed 000's Cloudflare + nginx example); bastion keeps it.
    assert Config.from_kwargs(trusted_proxy_count=2).trusted_proxy_count == 2


def test_trusted_proxy_headers_without_trusted_proxy_trust_local_peers_only():
    # waitress refuses this; bastion trusts the headers from this machine's peers only.
    config = Config.from_kwargs(trusted_proxy_headers="x-forwarded-for")
    assert config.trusted_proxy == ("local",)
    assert config.sources["trusted_proxy"] == "implied by trusted_proxy_headers"


def test_trusted_proxy_takes_lists_and_networks():
    config = Config.from_kwargs(
        trusted_proxy="10.0.0.0/8, 192.0.2.7 2001:db8::/32", trusted_proxy_headers="x-real-ip"
    )
    assert config.trusted_proxy == ("10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32")


def test_trusted_proxy_refuses_what_is_not_an_address():
    with pytest.raises(ConfigError, match=r"trusted_proxy.*not an IP address"):
        Config.from_kwargs(trusted_proxy="proxy.example.com")


def test_seed_argument_names_are_accepted_by_serve():
    config = Config.from_kwargs(
        trusted_proxy="10.0.0.1",
        trusted_proxy_headers="x-forwarded-for",
        clear_untrusted=False,
        log_untrusted=True,
    )
    assert config.clear_untrusted_proxy_headers is False
    assert config.log_untrusted_proxy_headers is True


def test_an_option_and_its_alias_together_are_refused():
    with pytest.raises(ConfigError, match="given twice"):
        Config.from_kwargs(clear_untrusted=True, clear_untrusted_proxy_headers=False)


def test_trusted_proxy_alone_trusts_x_forwarded_proto_with_a_warning():
    with pytest.warns(DeprecationWarning, match="X-Forwarded-Proto"):
        config = Config.from_kwargs(trusted_proxy="10.0.0.1")
    assert config.trusted_proxy_headers == {"x-forwarded-proto"}
    assert config.trusted_proxy_count == 1


def test_trusted_proxy_with_headers_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = Config.from_kwargs(
            trusted_proxy="*", trusted_proxy_headers={"X-Forwarded-For"}, trusted_proxy_count="2"
        )
    assert config.trusted_proxy_headers == {"x-forwarded-for"}
    assert config.trusted_proxy_count == 2


def test_empty_ident_means_no_server_header_and_stays_a_string():
    assert Config.from_kwargs(ident="").ident == ""
    assert Config.from_kwargs(ident=None).ident == ""


def test_describe_lists_every_option_with_its_origin():
    text = Config.from_kwargs(threads=3).describe()
    lines = [line for line in text.splitlines() if not line.startswith("# effective")]
    assert len(lines) == len(OPTIONS)
    assert any(line.startswith("threads = 3 ") and line.endswith("# argument") for line in lines)
    assert any(line.startswith("# unix_socket is unset") for line in lines)
    assert any(line.startswith('listen = "0.0.0.0:8080"') for line in lines)


# -- the same coercions as waitress 3.0 --------------------------------------------------------

SAMPLES = {
    "threads": "8",
    "backlog": "2048",
    "recv_bytes": "16384",
    "send_bytes": "9000",
    "outbuf_overflow": "2097152",
    "outbuf_high_watermark": "1000000",
    "inbuf_overflow": "1000",
    "connection_limit": "50",
    "cleanup_interval": "10",
    "channel_timeout": "60",
    "log_socket_errors": "false",
    "max_request_header_size": "1000",
    "max_request_body_size": "0",
    "expose_tracebacks": "yes",
    "ident": "myserver",
    "asyncore_loop_timeout": "5",
    "asyncore_use_poll": "true",
    "unix_socket_perms": "660",
    "url_scheme": "https",
    "url_prefix": "//app/",
    "channel_request_lookahead": "5",
    "server_name": "example.org",
    "ipv6": "off",
    "ipv4": "1",
    "clear_untrusted_proxy_headers": "no",
    "log_untrusted_proxy_headers": "on",
    "trusted_proxy": "",
}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(("name", "raw"), sorted(SAMPLES.items()))
def test_string_values_coerce_as_in_waitress(name, raw):
    expected = getattr(waitress.adjustments.Adjustments(**{name: raw}), name)
    assert getattr(Config.from_kwargs(**{name: raw}), name) == expected


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_trusted_proxy_options_coerce_as_in_waitress():
    kwargs = {
        "trusted_proxy": "10.0.0.1",
        "trusted_proxy_headers": "x-forwarded-for X-Forwarded-Proto",
        "trusted_proxy_count": "2",
    }
    theirs = waitress.adjustments.Adjustments(**kwargs)
    ours = Config.from_kwargs(**kwargs)
    assert ours.trusted_proxy_headers == theirs.trusted_proxy_headers
    assert ours.trusted_proxy_count == theirs.trusted_proxy_count
    # bastion keeps trusted_proxy as networks (it also takes lists and CIDRs).
    assert ours.trusted_proxy == (theirs.trusted_proxy + "/32",)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"listen": "127.0.0.1:8080 [::1]:9090"},
        {"host": "127.0.0.1", "port": "9000"},
        {"listen": "127.0.0.1"},
    ],
)
def test_listen_resolves_to_the_addresses_waitress_binds(kwargs):
    theirs = waitress.adjustments.Adjustments(**kwargs)
    bound = [sockaddr[:2] for _, _, _, sockaddr in theirs.listen]
    assert list(Config.from_kwargs(**kwargs).listen) == bound


@pytest.mark.parametrize(
    "kwargs",
    [
        {"listen": "127.0.0.1:80", "port": 80},
        {"trusted_proxy": "*", "trusted_proxy_headers": "x-forwarded-nonsense"},
        {"threads": "four"},
        {"nonsense": "1"},
    ],
)
def test_what_waitress_refuses_bastion_refuses(kwargs):
    with pytest.raises(ValueError):
        waitress.adjustments.Adjustments(**kwargs)
    with pytest.raises(ConfigError):
        Config.from_kwargs(**kwargs)
