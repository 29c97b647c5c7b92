"""The documentation stays true: flags, option names, variables, config snippets, links, code.

Every ``bastion`` command line in docs/*.md and README.md is parsed by the real argument
parser and turned into a Config; every TOML block, PasteDeploy section, ``BASTION_*``
variable and ``serve()`` call is validated by the options table; every relative link and
anchor resolves; every Python block compiles; nginx and HAProxy blocks pass ``nginx -t`` and
``haproxy -c``.
"""

from __future__ import annotations

import argparse
import ast
import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bastion.cli import build_parser, cli_values
from bastion.config import Config
from bastion.config import sources as src
from bastion.config.options import ALIASES, BY_ENV, BY_NAME

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]
GUIDES = sorted(DOCS.glob("deploy-*.md"))
# Pages that quote other servers' flags on their own (the benchmark's command table).
OTHER_SERVERS_FLAGS = frozenset({"performance.md"})
TOOL_TIMEOUT = 60

# A snippet that relies on deprecated behaviour (a DeprecationWarning) fails.
pytestmark = pytest.mark.filterwarnings("error")

# snake_case names quoted in the docs that are not bastion options, and whose they are.
NOT_OPTIONS = frozenset(
    {
        # nginx directives and variables
        "client_max_body_size",
        "keepalive_timeout",
        "proxy_buffering",
        "proxy_next_upstream",
        "proxy_read_timeout",
        "proxy_request_buffering",
        # HAProxy fetches
        "ssl_fc",
        # Docker Compose
        "stop_grace_period",
        # SQLAlchemy
        "max_overflow",
        "pool_size",
        # attributes and packages the debug-page guard looks for (docs/security.md)
        "handle_request",
        "pyramid_debugtoolbar",
        "wrapped_app",
        "wsgi_app",
        # bastion API other than options (docs/proxies.md)
        "parse_proxy_headers",
        "proxy_headers_middleware",
        "validate_trusted_proxy",
        "validate_trusted_proxy_count",
        "validate_trusted_proxy_headers",
        "validate_trusted_proxy_mode",
        # PEP 3333
        "start_response",
    }
)

FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"(?<!`)`([^`]+)`(?!`)")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
ENV_NAME = re.compile(r"\bBASTION_[A-Z0-9_]*[A-Z0-9]\b")
ENV_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
APP_NAME = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


@dataclass(frozen=True)
class Block:
    page: Path
    lang: str
    code: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)} ```{self.lang}"


def read(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def blocks(pages: list[Path], *langs: str) -> list[Block]:
    """The fenced code blocks of ``pages``, only those in ``langs`` if any are given."""
    found = []
    for page in pages:
        for match in FENCE.finditer(read(page)):
            if not langs or match.group(1) in langs:
                found.append(Block(page, match.group(1), match.group(2)))
    return found


def prose(page: Path) -> str:
    """The page without its fenced code blocks."""
    return FENCE.sub("", read(page))


def spans(page: Path) -> list[str]:
    """The inline code spans of the page's prose."""
    return INLINE.findall(prose(page))


def logical_lines(code: str) -> list[str]:
    """Lines with backslash continuations joined, as a shell or a Dockerfile reads them.

    Shell variables become 8080: the docs use them for ports (``--listen 127.0.0.1:$PORT``).
    """
    return re.sub(r"\$\{?[A-Z_]+\}?", "8080", code.replace("\\\n", " ")).splitlines()


def bastion_command(line: str) -> tuple[dict[str, str], list[str]] | None:
    """``(environment assignments, argv after 'bastion')`` if the line runs bastion."""
    stripped = line.strip()
    exec_form = re.match(r"(?:CMD|ENTRYPOINT)\s+(\[.*\])$", stripped)
    if exec_form:
        tokens = json.loads(exec_form.group(1))
    else:
        stripped = re.sub(r"^(?:ExecStart|ExecStartPre)=", "", stripped)
        try:
            tokens = shlex.split(stripped, comments=True)
        except ValueError:
            return None
    env: dict[str, str] = {}
    i = 0
    while i < len(tokens) and ENV_ASSIGN.match(tokens[i]):
        name, value = tokens[i].split("=", 1)
        env[name] = value
        i += 1
    if i < len(tokens) and tokens[i] == "sudo":
        i += 1
        while i < len(tokens) and tokens[i].startswith("-"):
            i += 2 if tokens[i] in ("-u", "-g") else 1
    if i >= len(tokens):
        return None
    command = tokens[i].rsplit("/", 1)[-1]
    if command == "bastion":
        return env, tokens[i + 1 :]
    if command.startswith("python") and tokens[i + 1 : i + 3] == ["-m", "bastion"]:
        return env, tokens[i + 3 :]
    return None


def commands(pages: list[Path]) -> list[tuple[str, dict[str, str], list[str]]]:
    """Every bastion command line in the pages' code blocks and inline spans."""
    found = []
    for page in pages:
        texts = [block.code for block in blocks([page])] + spans(page)
        for text in texts:
            for line in logical_lines(text):
                command = bastion_command(line)
                if command is not None:
                    found.append((f"{page.name}: {line.strip()}", *command))
    return found


def load_command(argv: list[str], env: dict[str, str]) -> tuple[argparse.Namespace, Config]:
    """The parsed ``bastion argv`` (``bastion check ...`` included) and its Config under
    ``env`` (a --config file is not read)."""
    checking = argv[:1] == ["check"]
    try:
        namespace = build_parser(check=checking).parse_args(argv[1:] if checking else argv)
    except SystemExit:
        pytest.fail(f"bastion refuses the arguments {argv}")
    layers = [src.from_cli(cli_values(namespace)), src.from_env(env)]
    return namespace, Config.from_layers(layers)


def env_assignments(text: str) -> dict[str, str]:
    """``BASTION_*`` values set in a block: shell/env-file/Dockerfile, YAML, Kubernetes."""
    found: dict[str, str] = {}
    patterns = (
        r"\b(BASTION_\w+)=(\"[^\"]*\"|'[^']*'|[^\s\"']+)",
        r"\b(BASTION_\w+):\s+(\"[^\"]*\"|\S+)",
        r"name:\s+(BASTION_\w+)\s*\n\s*value:\s+(\"[^\"]*\"|\S+)",
    )
    for pattern in patterns:
        for name, value in re.findall(pattern, text):
            found[name] = value[1:-1] if value[:1] in "\"'" else value
    return found


def github_slug(heading: str) -> str:
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {github_slug(m) for m in re.findall(r"^#{1,6} (.+)$", prose(page), re.MULTILINE)}


def tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    assert path, f"{name} is not installed (scripts/test.sh installs it)"
    return path


# -- the bastion command line -----------------------------------------------------------------


@pytest.fixture(scope="module")
def help_flags() -> set[str]:
    """The flags ``bastion --help`` and ``bastion check --help`` list."""
    flags: set[str] = set()
    for command in ([], ["check"]):
        result = subprocess.run(
            [sys.executable, "-m", "bastion", *command, "--help"],
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT,
            check=True,
        )
        flags.update(re.findall(r"--[a-z][a-z0-9-]*", result.stdout))
    return flags


def test_every_guide_shows_bastion_commands_and_they_are_found():
    per_page = {page.name: 0 for page in GUIDES}
    for where, _, _ in commands(GUIDES):
        per_page[where.split(":", 1)[0]] += 1
    assert per_page and all(count >= 1 for count in per_page.values()), per_page
    assert len(commands(PAGES)) >= 15


def test_every_flag_of_a_bastion_command_is_in_the_help(help_flags):
    for where, _, argv in commands(PAGES):
        for token in argv:
            if token.startswith("--"):
                assert token.split("=", 1)[0] in help_flags, f"{where}: unknown flag {token}"


def test_every_bastion_command_parses_and_gives_a_valid_configuration():
    for where, env, argv in commands(PAGES):
        namespace, config = load_command(argv, env)
        assert namespace.app is None or APP_NAME.fullmatch(namespace.app), where
        for name in cli_values(namespace):
            assert config.sources[name] == f"flag {BY_NAME[name].cli_flag}", where


def test_inline_flags_name_real_bastion_flags(help_flags):
    problems = []
    for page in PAGES:
        if page.name in OTHER_SERVERS_FLAGS:
            continue
        for span in spans(page):
            if not span.startswith("--"):
                continue
            flag = span.split()[0].split("=", 1)[0]
            names = {flag}
            if flag.startswith("--[no-]"):
                names = {"--" + flag[7:], "--no-" + flag[7:]}
            problems += [f"{page.name}: `{span}`" for name in names if name not in help_flags]
    assert not problems, f"not bastion flags: {problems}"


def test_the_proxy_protocol_flag_of_the_haproxy_guide_exists(help_flags):
    guide = read(DOCS / "deploy-haproxy.md")
    assert "--proxy-protocol" in guide and "send-proxy-v2" in guide
    assert "--proxy-protocol" in help_flags


# -- option names, variables, config files ----------------------------------------------------


def test_quoted_snake_case_names_are_options():
    known = set(BY_NAME) | set(ALIASES) | NOT_OPTIONS
    problems = []
    for page in PAGES:
        for span in spans(page):
            assignment = re.match(r"([a-z][a-z0-9_]*)\s*=(?!=)", span)
            name = assignment.group(1) if assignment else span
            if SNAKE.fullmatch(name) and name not in known:
                problems.append(f"{page.name}: `{span}`")
    assert not problems, f"no such option (or add it to NOT_OPTIONS): {problems}"


def test_every_bastion_variable_is_an_option():
    for page in PAGES:
        for name in ENV_NAME.findall(read(page)):
            assert name in BY_ENV, f"{page.name}: {name} is not a bastion variable"


def test_every_bastion_variable_value_is_accepted():
    checked = 0
    for block in blocks(PAGES):
        values = env_assignments(block.code)
        if values:
            Config.from_layers([src.from_env(values)])
            checked += len(values)
    for page in PAGES:
        for span in spans(page):
            values = env_assignments(span)
            if values:
                Config.from_layers([src.from_env(values)])
                checked += len(values)
    assert checked >= 10


def test_every_toml_block_is_a_valid_config_file(tmp_path):
    toml_blocks = blocks(PAGES, "toml")
    assert len(toml_blocks) >= 4
    for number, block in enumerate(toml_blocks):
        path = tmp_path / f"{number}.toml"
        path.write_text(block.code, encoding="utf-8")
        config = Config.from_layers([src.from_file(str(path)), src.from_env({})])
        assert set(config.sources.values()) - {src.DEFAULT}, block.where


def test_pastedeploy_server_sections_use_option_names():
    sections = 0
    for block in blocks(PAGES, "ini"):
        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(block.code)
        for name in parser.sections():
            if name.startswith("server:"):
                values = dict(parser[name])
                assert values.pop("use") == "egg:bastion", block.where
                Config.from_layers([src.from_kwargs(values), src.from_env({})])
                sections += 1
    assert sections >= 1


# -- Python snippets ----------------------------------------------------------------------------


def test_every_python_block_compiles():
    python_blocks = blocks(PAGES, "python")
    assert len(python_blocks) >= 6
    for block in python_blocks:
        compile(block.code, block.where, "exec")


def test_serve_calls_use_real_options_with_accepted_values():
    calls = 0
    for block in blocks(PAGES, "python"):
        for node in ast.walk(ast.parse(block.code)):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "serve"):
                continue
            literals = {}
            for keyword in node.keywords:
                if keyword.arg is None:
                    continue
                assert keyword.arg in BY_NAME or keyword.arg in ALIASES, (
                    f"{block.where}: serve() has no option {keyword.arg!r}"
                )
                try:
                    literals[keyword.arg] = ast.literal_eval(keyword.value)
                except ValueError:
                    continue
            Config.from_layers([src.from_kwargs(literals), src.from_env({})])
            calls += 1
    assert calls >= 4


# -- links --------------------------------------------------------------------------------------


def test_relative_links_and_anchors_resolve():
    links = 0
    for page in PAGES:
        for target in LINK.findall(prose(page)):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):
                continue
            path, _, anchor = target.partition("#")
            destination = (page.parent / path).resolve() if path else page
            assert destination.exists(), f"{page.name}: broken link {target}"
            if anchor and destination.suffix == ".md":
                assert anchor in anchors(destination), f"{page.name}: no anchor {target}"
            links += 1
    assert links >= 20


def test_the_docs_index_links_every_page():
    index = read(DOCS / "README.md")
    for page in sorted(DOCS.glob("*.md")):
        if page.name != "README.md":
            assert f"]({page.name})" in index, f"docs/README.md does not link {page.name}"


# -- what the guides promise ----------------------------------------------------------------------


def test_systemd_stop_timeout_is_longer_than_the_graceful_timeout():
    guide = DOCS / "deploy-systemd.md"
    stop = re.search(r"^TimeoutStopSec=(\d+)$", read(guide), re.MULTILINE)
    assert stop
    for block in blocks([guide], "toml"):
        graceful = re.search(r"^graceful_timeout = (\d+)", block.code, re.MULTILINE)
        if graceful:
            assert int(stop.group(1)) > int(graceful.group(1))
    assert int(stop.group(1)) > BY_NAME["graceful_timeout"].default
    assert re.search(r"^KillSignal=SIGTERM$", read(guide), re.MULTILINE)


def test_container_grace_periods_cover_the_graceful_timeout():
    guide = read(DOCS / "deploy-containers.md")
    graceful = BY_NAME["graceful_timeout"].default
    grace = int(re.search(r"terminationGracePeriodSeconds: (\d+)", guide).group(1))
    sleep = int(re.search(r'command: \["sleep", "(\d+)"\]', guide).group(1))
    assert grace > sleep + graceful
    assert int(re.search(r"--stop-timeout (\d+)", guide).group(1)) > graceful
    assert int(re.search(r"stop_grace_period: (\d+)s", guide).group(1)) > graceful


def test_the_dockerfile_runs_bastion_unprivileged_on_the_exposed_port():
    (dockerfile,) = blocks([DOCS / "deploy-containers.md"], "dockerfile")
    lines = logical_lines(dockerfile.code)
    assert "python:3.12-slim" in lines[0]
    assert "STOPSIGNAL SIGTERM" in lines
    user = next(line.split()[1] for line in lines if line.startswith("USER "))
    assert user not in ("root", "0")
    cmd = next(bastion_command(line) for line in lines if line.startswith("CMD "))
    assert cmd is not None
    port = load_command(cmd[1], {})[1].listen[0][1]
    assert f"EXPOSE {port}" in lines


def test_the_guides_state_no_performance_figures():
    for page in GUIDES:
        assert not re.search(r"req/s|requests per second|\d+k? rps", read(page)), page.name


# -- proxy configurations -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key, combined = directory / "cert.pem", directory / "key.pem", directory / "both.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj"]
    subprocess.run(
        [tool("openssl"), *request, "/CN=example.com", "-keyout", str(key), "-out", str(cert)],
        capture_output=True,
        timeout=TOOL_TIMEOUT,
        check=True,
    )
    combined.write_bytes(cert.read_bytes() + key.read_bytes())
    return {"cert": cert, "key": key, "combined": combined}


def test_nginx_blocks_pass_nginx_t(tmp_path, certificate):
    nginx_blocks = blocks(PAGES, "nginx")
    assert len(nginx_blocks) >= 2
    for number, block in enumerate(nginx_blocks):
        body = re.sub(
            r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {certificate['key']};", block.code
        )
        body = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {certificate['cert']};", body)
        prefix = tmp_path / f"nginx{number}"
        (prefix / "logs").mkdir(parents=True)
        conf = prefix / "nginx.conf"
        conf.write_text(
            f"pid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log;\nevents {{}}\n"
            f"http {{\naccess_log off;\n{body}\n}}\n",
            encoding="utf-8",
        )
        result = subprocess.run(
            [tool("nginx"), "-t", "-q", "-p", str(prefix), "-c", str(conf)],
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT,
        )
        assert result.returncode == 0, f"{block.where}:\n{result.stderr}"


def test_haproxy_blocks_pass_haproxy_c(tmp_path, certificate):
    haproxy_blocks = blocks(PAGES, "haproxy")
    assert len(haproxy_blocks) >= 3
    for number, block in enumerate(haproxy_blocks):
        body = re.sub(r"\bcrt\s+\S+", f"crt {certificate['combined']}", block.code)
        if not re.search(r"^defaults\b", body, re.MULTILINE):
            body = (
                "defaults\n    mode http\n    timeout connect 5s\n"
                "    timeout client 30s\n    timeout server 30s\n\n" + body
            )
        if not re.search(r"^(frontend|listen)\b", body, re.MULTILINE):
            # A backend shown on its own: give it the frontend the page's full example has.
            backend = re.search(r"^backend\s+(\S+)", body, re.MULTILINE).group(1)
            body += f"\nfrontend www\n    bind 127.0.0.1:8000\n    default_backend {backend}\n"
        conf = tmp_path / f"haproxy{number}.cfg"
        conf.write_text(body, encoding="utf-8")
        result = subprocess.run(
            [tool("haproxy"), "-c", "-f", str(conf)],
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT,
            env={**os.environ, "HOME": str(tmp_path)},
        )
        assert result.returncode == 0, f"{block.where}:\n{result.stdout}{result.stderr}"
