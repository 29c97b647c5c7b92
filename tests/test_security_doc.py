"""docs/security.md stays true: it names every hardening option, its option tables state the
real defaults, its fixed response texts are the server's, and its recommended configuration
files load as they are written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bastion.config import Config
from bastion.config import sources as src
from bastion.config.options import BY_NAME, OPTIONS
from bastion.http.error_pages import REASONS, render_error
from bastion.trusted_hosts import BAD_HOST

PAGE = Path(__file__).resolve().parents[1] / "docs" / "security.md"
FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"(?<!`)`([^`]+)`(?!`)")
TABLE_ROW = re.compile(r"^\| `([a-z_]+)` \| ([^|]+) \|", re.MULTILINE)
RECOMMENDED = "## Recommended production configuration"

OPTIONAL = {"graceful_timeout"}
EXTRA = (
    "max_request_line",
    "max_request_header_size",
    "max_request_header_fields",
    "max_request_body_size",
    "max_connections_per_ip",
    "max_queued_requests",
    "retry_after",
    "connection_limit",
    "ident",
    "expose_tracebacks",
    "pass_authorization",
    "unix_socket_owner",
    "unix_socket_perms",
    "trusted_proxy",
    "proxy_protocol",
    "proxy_protocol_headers",
)

# A recommended configuration that relies on deprecated behaviour fails.
pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(scope="module")
def text() -> str:
    return PAGE.read_text(encoding="utf-8")


def prose(text: str) -> str:
    return FENCE.sub("", text)


def recommended_blocks(text: str) -> list[str]:
    """The TOML blocks of the recommended-configuration section."""
    section = text.split(RECOMMENDED, 1)[1].split("\n## ", 1)[0]
    return [code for lang, code in FENCE.findall(section) if lang == "toml"]


def hardening_options() -> list[str]:
    sectioned = [
        option.name
        for option in OPTIONS
        if option.section in ("hosts", "timeouts", "process") and option.name not in OPTIONAL
    ]
    return sectioned + list(EXTRA)


def load(tmp_path: Path, number: int, code: str) -> Config:
    path = tmp_path / f"recommended{number}.toml"
    path.write_text(code, encoding="utf-8")
    return Config.from_layers([src.from_file(str(path))])


def test_every_hardening_option_is_named_in_backticks(text):
    names = hardening_options()
    assert len(names) >= 30 and all(name in BY_NAME for name in names)
    quoted = set(INLINE.findall(prose(text)))
    missing = [name for name in names if name not in quoted]
    assert not missing, f"docs/security.md does not name {missing} in backticks"


def test_option_tables_state_the_real_defaults(text):
    rows = [(name, cell.strip()) for name, cell in TABLE_ROW.findall(prose(text))]
    assert len(rows) >= 15
    for name, cell in rows:
        option = BY_NAME[name]
        if cell == "unset":
            assert option.default in (None, (), []), f"{name}: the default is {option.default!r}"
            continue
        literal = re.fullmatch(r"`([^`]*)`", cell)
        assert literal, f"{name}: the default cell {cell!r} is not a `value`"
        assert option.convert(literal.group(1)) == option.default, name


def test_the_fixed_response_texts_quoted_are_the_servers(text):
    assert "`Invalid Host header`" in text
    assert BAD_HOST.body == b"Invalid Host header\n"
    assert BAD_HOST.status == "400 Bad Request"
    statuses = re.search(r"own responses \(([\d, ]+)\)", prose(text).replace("\n", " "))
    assert statuses
    codes = [int(code) for code in statuses.group(1).split(", ")]
    assert {400, 408, 413, 414, 431, 500, 501, 503, 504, 505} <= set(codes)
    for code in codes:
        response = render_error(code, None, "bastion")
        assert response.endswith(f"\r\n\r\n{code} {REASONS[code]}\n".encode()), code
    assert "`413 Content Too Large`" in text


def test_recommended_configurations_load_as_written(tmp_path, text):
    blocks = recommended_blocks(text)
    assert len(blocks) == 2
    for number, code in enumerate(blocks):
        config = load(tmp_path, number, code)
        keys = re.findall(r"^([a-z_]+) =", code, re.MULTILINE)
        assert len(keys) >= 8
        for key in keys:
            assert config.sources[key].startswith("file "), f"{key}: {config.sources[key]}"


def test_the_configuration_behind_nginx_trusts_only_nginx(tmp_path, text):
    config = load(tmp_path, 0, recommended_blocks(text)[0])
    assert config.listen == (("127.0.0.1", 8080),)
    assert config.trusted_proxy == ("127.0.0.1/32",)
    assert "x-forwarded-host" in config.trusted_proxy_headers
    assert config.allowed_hosts and "*" not in config.allowed_hosts
    assert config.max_connections_per_ip == 0
    assert config.max_request_header_size < BY_NAME["max_request_header_size"].default
    assert config.user and config.group and config.umask == 0o027
    for name in ("header_timeout", "header_max_timeout", "body_timeout", "body_min_rate"):
        assert getattr(config, name) == BY_NAME[name].default, name


def test_the_configuration_exposed_directly_limits_each_client(tmp_path, text):
    config = load(tmp_path, 1, recommended_blocks(text)[1])
    assert config.trusted_proxy is None
    assert config.max_connections_per_ip > 0
    assert config.allowed_hosts == ("example.com",) and config.www_redirect
    assert config.ident == ""
    assert config.user and config.umask == 0o027
