"""Where raw option values come from: serve() keywords, ``BASTION_*`` environment variables,
a TOML file, the command line.  Each source becomes a ``Layer`` of raw (unconverted) values;
``merge`` picks, option by option, the value of the highest-precedence layer that sets it.

Precedence: command line > environment > file > default for the ``bastion`` command;
keywords > default for ``serve()``, which reads no environment (as waitress's).  An unknown
name is an error in keywords, flags and files; an unknown ``BASTION_*`` variable is only a
logged warning (other programs' variables share the prefix).  Both say "did you mean" for near
misses, through ``suggest``.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from .options import ALIASES, BY_ENV, BY_NAME, CLI, ENV, FILE, KWARGS, Option

DEFAULT = "default"

logger = logging.getLogger("bastion.config")


@dataclass(frozen=True)
class Layer:
    """Raw values from one source; ``origins`` labels each, e.g. ``env BASTION_THREADS``."""

    kind: str
    values: Mapping[str, Any]
    origins: Mapping[str, str] = field(default_factory=dict)

    def origin(self, name: str) -> str:
        return self.origins.get(name, self.kind)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate nearest to ``word`` if it is near enough (the one "did you mean" rule,
    for option names, variables, keys and command-line flags), else None."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def suggest(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, or an empty string."""
    close = closest(word, candidates)
    return f"; did you mean {close!r}?" if close is not None else ""


def _lookup(name: str, kind: str, where: str) -> Option:
    option = BY_NAME.get(name)
    if option is None:
        settable = [o.name for o in BY_NAME.values() if kind in o.sources]
        raise ConfigError(
            f"unknown option {name!r} ({where}){suggest(name, settable)}",
            option=name,
            source=where,
        )
    if kind not in option.sources:
        raise ConfigError(
            f"option {name!r} cannot be set from {where}; only from Python (serve() or Config)",
            option=name,
            source=where,
        )
    return option


def from_kwargs(kwargs: Mapping[str, Any]) -> Layer:
    """The layer of ``serve()`` / ``Config.from_kwargs`` keyword arguments (``ALIASES`` too)."""
    values: dict[str, Any] = {}
    for name, value in kwargs.items():
        canonical = ALIASES.get(name, name)
        if canonical in values:
            raise ConfigError(
                f"option {canonical!r} given twice (as {name!r} too)",
                option=canonical,
                source="keyword argument",
            )
        _lookup(canonical, KWARGS, "keyword argument")
        values[canonical] = value
    return Layer(KWARGS, values, {name: "argument" for name in values})


def from_env(environ: Mapping[str, str] | None = None) -> Layer:
    """The layer of ``BASTION_<OPTION>`` environment variables (the ``bastion`` command's).

    A ``BASTION_*`` name that sets no option is skipped with a warning naming it, logged
    through the ``bastion.config`` logger (shown on stderr even before logging is set up).
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for var, value in environ.items():
        if not var.startswith("BASTION_"):
            continue
        option = BY_ENV.get(var)
        if option is None:
            name = var[len("BASTION_") :].lower()
            if name in BY_NAME:
                why = f"option {name!r} can only be set from Python (serve() or Config)"
            else:
                why = f"it names no bastion option{suggest(var, BY_ENV)}"
            logger.warning("ignoring environment variable %s: %s", var, why)
            continue
        values[option.name] = value
        origins[option.name] = f"env {var}"
    return Layer(ENV, values, origins)


def _load_toml(path: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise ConfigError(
                "reading a TOML config file on Python 3.10 needs tomli: pip install 'bastion[toml]'"
            ) from None
    try:
        with open(path, "rb") as stream:
            return tomllib.load(stream)
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None


def from_file(path: str) -> Layer:
    """The layer of a TOML file whose top-level keys are option names."""
    data = _load_toml(path)
    for name in data:
        _lookup(name, FILE, f"config file {path}")
    return Layer(FILE, data, {name: f"file {path}" for name in data})


def from_cli(values: Mapping[str, Any]) -> Layer:
    """The layer of options given as command-line flags (already parsed, still raw)."""
    for name in values:
        _lookup(name, CLI, "command line")
    return Layer(CLI, dict(values), {name: f"flag {BY_NAME[name].cli_flag}" for name in values})


def merge(layers: Iterable[Layer]) -> dict[str, tuple[Any, str, int]]:
    """For each option set by some layer: ``(raw value, origin label, layer rank)``.

    ``layers`` come highest precedence first; the rank is the position of the layer that won.
    """
    chosen: dict[str, tuple[Any, str, int]] = {}
    for rank, layer in enumerate(layers):
        for name, value in layer.values.items():
            if name not in chosen:
                chosen[name] = (value, layer.origin(name), rank)
    return chosen
