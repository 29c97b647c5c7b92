"""The ``bastion`` command (and ``python -m bastion``): waitress-serve's flags, and more.

``bastion [OPTIONS] [MODULE:OBJECT]`` imports the WSGI application (``--call`` calls the
object to get it) and serves it; with no application it serves the built-in demo page.
The option flags are generated from the options table.  Exit status: 0 after a clean
stop (SIGINT/SIGTERM), 1 when the application cannot be loaded or the server cannot
start, 2 for a bad flag or option value.

``bastion check [OPTIONS] [--format text|json] [MODULE:OBJECT]`` takes the same options and
application and reports deployment findings instead of serving (``bastion.check``); exit
status 1 when a finding is an error, 2 for a bad flag or option value.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import pkgutil
import re
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from . import __version__, _ensure_logging
from .config import Config
from .config import sources as src
from .config.model import render_value
from .config.options import CLI, OPTIONS, SECTIONS, Option
from .errors import ConfigError, with_source

DEMO_APP = "bastion.demo:app"

logger = logging.getLogger("bastion.cli")

DESCRIPTION = """\
Serve a WSGI application with bastion.

MODULE:OBJECT names the application, as in 'myproject.wsgi:application'; the object may be
a dotted path ('pkg.mod:factory.app').  The current directory is added to sys.path.
Without it, bastion serves a small demo page.

Options also come from BASTION_<OPTION> environment variables and from the TOML file given
with --config; precedence: command line > environment > file > default.
See docs/options.md for every option.

'bastion check [OPTIONS] [MODULE:OBJECT]' checks the deployment those options and that
application make, without serving: see 'bastion check --help'."""

CHECK_DESCRIPTION = """\
Check a bastion deployment without serving: the account the application runs as, where it
listens, the proxy it trusts, its files, the umask, slow-client timeouts and debug pages.

Give the same options and MODULE:OBJECT as for serving. The application is imported (as
the current user, from working_directory) but no socket is bound and no user switched.
Each finding has an id, a level (error, warning, info) and a fix; docs/security.md lists
them. Exit status: 1 when a finding is an error, 0 otherwise, 2 for a bad flag or value."""


def build_parser(check: bool = False) -> argparse.ArgumentParser:
    """The argument parser, with one flag per option of the table that allows the CLI;
    ``check`` for ``bastion check``'s (the same, with --format instead of --print-config)."""
    parser = argparse.ArgumentParser(
        prog="bastion check" if check else "bastion",
        usage="%(prog)s [OPTIONS] [MODULE:OBJECT]",
        description=CHECK_DESCRIPTION if check else DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # --thread is not --threads: a typo is an error, as elsewhere
    )
    parser.add_argument(
        "app",
        nargs="?",
        metavar="MODULE:OBJECT",
        help="the WSGI application to check"
        if check
        else f"the WSGI application to serve (default: the demo page, {DEMO_APP})",
    )
    runner = parser.add_argument_group("Running")
    runner.add_argument(
        "--call",
        action="store_true",
        help="call MODULE:OBJECT (with no arguments) to get the WSGI application",
    )
    runner.add_argument(
        "--config", metavar="FILE", help="read options from this TOML file (top-level keys)"
    )
    if check:
        runner.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help="how to report the findings (default: text)",
        )
    else:
        runner.add_argument(
            "--print-config",
            action="store_true",
            help="print the effective configuration, and where each value came from, then exit",
        )
    runner.add_argument("--version", action="version", version=f"bastion {__version__}")
    for key, title in SECTIONS:
        group = parser.add_argument_group(title)
        for option in OPTIONS:
            if option.section != key or CLI not in option.sources:
                continue
            flag = option.cli_flag
            assert flag is not None
            text = option.help.replace("%", "%%")
            if option.is_flag:
                group.add_argument(
                    flag,
                    dest=option.name,
                    action=argparse.BooleanOptionalAction,
                    default=argparse.SUPPRESS,
                    help=f"{text} (default: {'on' if option.default else 'off'})",
                )
            else:
                group.add_argument(
                    flag,
                    dest=option.name,
                    metavar=option.metavar,
                    action="append" if option.name == "listen" else "store",
                    default=argparse.SUPPRESS,
                    help=f"{text} (default: {_default_text(option)})",
                )
    return parser


def _default_text(option: Option) -> str:
    rendered = render_value(option, option.default)
    return "unset" if rendered is None else rendered.replace("%", "%%")


def cli_values(namespace: argparse.Namespace) -> dict[str, Any]:
    """The options given on the command line, raw; repeated --listen flags are joined."""
    values = {o.name: getattr(namespace, o.name) for o in OPTIONS if hasattr(namespace, o.name)}
    if "listen" in values:
        values["listen"] = " ".join(values["listen"])
    return values


def load_config(namespace: argparse.Namespace) -> Config:
    """Command line > environment > config file > default; raises ``ConfigError``."""
    layers = [src.from_cli(cli_values(namespace)), src.from_env()]
    if namespace.config:
        layers.append(src.from_file(namespace.config))
    return Config.from_layers(layers)


class AppLoadError(Exception):
    """The application named on the command line cannot be imported or called."""


def load_app(name: str, call: bool = False) -> Any:
    """Import ``module:object`` (cwd on sys.path, as waitress-serve does); call it if asked."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.append(cwd)
    try:
        app = pkgutil.resolve_name(name)
    except (ImportError, AttributeError, ValueError) as error:
        raise AppLoadError(
            f"cannot import application {name!r}: {type(error).__name__}: {error}"
        ) from error
    if call:
        app = app()
    if not callable(app):
        what = "the result of calling it" if call else "it"
        raise AppLoadError(f"{name!r} is not a WSGI application: {what} is not callable")
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    checking = args[:1] == ["check"]
    parser = build_parser(check=checking)
    try:
        namespace, extra = parser.parse_known_args(args[1:] if checking else args)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 2
    problem = _unknown_flag(parser, extra) or _misplaced_value(namespace.app)
    if extra and problem is None:
        problem = f"unrecognized arguments: {' '.join(extra)}"
    if problem is not None:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {problem}", file=sys.stderr)
        return 2
    _ensure_logging()  # so that the environment's warnings show as bastion's
    try:
        config = load_config(namespace)
    except ConfigError as error:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {with_source(error, {})}", file=sys.stderr)
        return 2
    if checking:
        return _check(namespace.app, namespace.call, config, namespace.format)
    if namespace.print_config:
        sys.stdout.write(config.describe())
        return 0
    try:
        return _serve(namespace.app, namespace.call, config)
    except KeyboardInterrupt:
        return 130


def _unknown_flag(parser: argparse.ArgumentParser, extra: Sequence[str]) -> str | None:
    """The error for the first unknown flag among ``extra``, with the nearest real flag."""
    for arg in extra:
        if arg.startswith("-") and arg not in ("-", "--"):
            flag = arg.split("=", 1)[0]
            known = [f for f in parser._option_string_actions if f.startswith("--")]
            near = src.closest(flag, known)
            hint = f"; did you mean {near}?" if near is not None else ""
            return f"unrecognized arguments: {flag}{hint}"
    return None


_MODULE = re.compile(r"[^\W\d]\w*(\.[^\W\d]\w*)*\Z")


def _misplaced_value(app_name: str | None) -> str | None:
    """The error when MODULE:OBJECT cannot be one (its module part is not a dotted Python
    name): most likely the value of a flag given without the flag, as in 127.0.0.1:8080."""
    if app_name is None or _MODULE.match(app_name.partition(":")[0]):
        return None
    if app_name.endswith(".sock") or app_name.startswith("unix:"):
        flag = "--unix-socket"
    elif app_name.isdigit():
        flag = "--port"
    elif ":" in app_name:
        flag = "--listen"
    else:
        return f"{app_name!r} is not MODULE:OBJECT"
    return f"{app_name!r} is not MODULE:OBJECT; did you mean {flag} {app_name}?"


def _serve(app_name: str | None, call: bool, config: Config) -> int:
    # Bind and drop privileges first, so that the application is imported as ``user``.
    from .debug_guard import DebugAppError
    from .process.privileges import PrivilegeError
    from .server import Server
    from .server.opening import open_server

    try:
        opened = open_server(config)
    except PrivilegeError as error:
        print(f"bastion: error: {with_source(error, config.sources)}", file=sys.stderr)
        return 1
    except ConfigError as error:
        print(f"bastion: error: {with_source(error, config.sources)}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"bastion: error: cannot listen: {error}", file=sys.stderr)
        return 1
    if app_name is None:
        logger.info("No application given: serving the demo page (%s)", DEMO_APP)
    try:
        app = load_app(app_name or DEMO_APP, call)
    except Exception as error:
        opened.close()  # the listeners, and the unix socket file if any
        message = str(error)
        if not isinstance(error, AppLoadError):
            traceback.print_exc()
            message = f"loading application {app_name!r} failed"
        print(f"bastion: error: {message}", file=sys.stderr)
        return 1
    try:
        server = Server(app, config, opened)
    except ConfigError as error:
        opened.close()
        print(f"bastion: error: {with_source(error, config.sources)}", file=sys.stderr)
        return 2
    try:
        server.run()
    except DebugAppError as error:
        print(f"bastion: error: {error}", file=sys.stderr)
        return 1
    return 0


def _check(app_name: str | None, call: bool, config: Config, report: str) -> int:
    from .check import check_start, exit_status, render_json, render_text, start_fails
    from .process.privileges import prepare_process

    problems = []
    try:
        prepare_process(config)  # working_directory and umask, as at a start; nothing bound
    except ConfigError as error:
        problems.append(start_fails(with_source(error, config.sources)))
    app = None
    if app_name is not None:
        try:
            # What the application prints on import must not mix with a JSON report.
            with contextlib.redirect_stdout(sys.stderr):
                app = load_app(app_name, call)
        except AppLoadError as error:
            problems.append(start_fails(str(error)))
        except Exception as error:
            what = f"{type(error).__name__}: {error}"
            problems.append(start_fails(f"loading application {app_name!r} raised {what}"))
    findings = check_start(config, app, app_name, problems)
    sys.stdout.write(render_json(findings) if report == "json" else render_text(findings))
    return exit_status(findings)
