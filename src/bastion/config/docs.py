"""Generate docs/options.md from the options table: ``python -m bastion.config.docs``."""

from __future__ import annotations

import sys
from typing import Any

from .model import render_value
from .options import CLI, ENV, FILE, OPTIONS, SECTIONS, Option

HEADER = """\
# Options

<!-- Generated from src/bastion/config/options.py by
     `python -m bastion.config.docs > docs/options.md`; do not edit by hand. -->

Every option can be given in four ways, unless its entry says otherwise:

- as a keyword argument: `bastion.serve(app, threads=8)` (the names are waitress's);
- as a command-line flag: `bastion --threads 8 myapp:app` (booleans: `--ipv6` / `--no-ipv6`);
- as an environment variable: `BASTION_THREADS=8`;
- as a top-level key of the TOML file given with `bastion --config bastion.toml`:
  `threads = 8`.

With PasteDeploy, options are keys of the server section, as for waitress:
`[server:main]`, `use = egg:bastion`, `threads = 8`.

Precedence for the `bastion` command: command line > environment > config file > default.
For `serve()` (and PasteDeploy): keyword arguments > default; like waitress's, `serve()`
reads no environment variable: `BASTION_*` variables are the `bastion` command's.
An unknown name is an error for a keyword, flag or file key, with a "did you mean"; an
unknown `BASTION_*` variable (other programs share the prefix) is only a warning, with the
same suggestion. A value the option does not accept is an error naming its source: the
flag (`--threads`), the variable (`BASTION_THREADS`) or the file.
`bastion --print-config` shows every effective value and where it came from.

host/port, listen, unix_socket and sockets are alternative ways to say where to listen:
two of them from the same source is an error; from different sources, the one from the
higher-precedence source is used and the other ignored.

Value formats:

- booleans: `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`, `t`/`f`, `y`/`n`
  (any case); anything else is refused.
- sizes in bytes: an integer, or a number with a `K`, `M` or `G` suffix, 1024-based
  (`512K`, `16M`; `KB`, `KiB` are the same as `K`).
- durations in seconds: a number, or with a suffix `ms`, `s`, `m` or `h` (`1.5`, `500ms`, `2m`).
"""


def _value(option: Option, value: Any) -> str:
    rendered = render_value(option, value)
    return "unset" if rendered is None else f"`{rendered}`"


def _where(option: Option) -> str:
    ways = []
    if option.cli_flag:
        flag = option.cli_flag
        if option.is_flag:
            flag = "--[no-]" + flag[2:]
        elif option.metavar:
            flag = f"{flag} {option.metavar}"
        ways.append(f"flag `{flag}`")
    if option.env_var:
        ways.append(f"env `{option.env_var}`")
    if FILE in option.sources:
        ways.append("config file")
    if not (set(option.sources) & {CLI, ENV, FILE}):
        ways.append("Python only (`serve()` keyword argument)")
    return ", ".join(ways)


def _entry(option: Option) -> list[str]:
    lines = [f"### `{option.name}`", "", option.help, ""]
    lines.append(f"- Default: {_value(option, option.default)}")
    lines.append(f"- Accepts: {option.convert.accepts}")
    lines.append(f"- Set with: {_where(option)}")
    if not option.waitress:
        lines.append("- bastion's own option (waitress has none)")
    elif option.differs_from_waitress:
        lines.append(
            f"- waitress default: {_value(option, option.waitress_default)}; "
            f"differs because {option.why_different}"
        )
    lines.append("")
    return lines


def _differences() -> list[str]:
    lines = [
        "## Defaults that differ from waitress 3.0",
        "",
        "| option | bastion | waitress | why |",
        "| --- | --- | --- | --- |",
    ]
    for option in OPTIONS:
        if option.differs_from_waitress:
            lines.append(
                f"| `{option.name}` | {_value(option, option.default)} "
                f"| {_value(option, option.waitress_default)} | {option.why_different} |"
            )
    return [*lines, ""]


def render() -> str:
    """The whole of docs/options.md."""
    lines = [HEADER]
    for key, title in SECTIONS:
        lines += [f"## {title}", ""]
        for option in OPTIONS:
            if option.section == key:
                lines += _entry(option)
    lines += _differences()
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
