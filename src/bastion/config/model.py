"""The frozen ``Config``: one attribute per option, built from layers of raw values.

Building converts every value, then applies the rules that span options, as waitress does:
host/port, listen, unix_socket and sockets are alternatives (two of them from the same
source is an error; from different sources, the higher-precedence one wins); ``listen``
ends up as the tuple of ``(host, port)`` pairs to bind; the trusted-proxy options follow
bastion.proxy_rules, and the account options bastion.privileges.check_account_options.
Every rule between options that needs no look-up (accounts, addresses) is applied here,
so ``--print-config``, ``serve()`` and the command line refuse the same things alike.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import FrozenInstanceError
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..process.privileges import check_account_options
from ..proxy import rules
from . import sources as src
from .addresses import format_listen
from .options import BY_NAME, OPTIONS, Option

_NAMES = tuple(option.name for option in OPTIONS)

# The alternative ways to say where to listen, and the options each one uses.
_ADDRESS_GROUPS = (
    ("host/port", ("host", "port")),
    ("listen", ("listen",)),
    ("unix_socket", ("unix_socket",)),
    ("sockets", ("sockets",)),
)


class Config:
    """Every option's effective value (read-only), and where each came from (``sources``)."""

    __slots__ = (*_NAMES, "sources")

    if TYPE_CHECKING:  # attributes are generated from the options table

        def __getattr__(self, name: str) -> Any: ...

    sources: Mapping[str, str]

    def __init__(self, values: Mapping[str, Any], sources: Mapping[str, str]) -> None:
        """Use ``from_kwargs`` or ``from_layers``; this takes values already validated."""
        for name in _NAMES:
            object.__setattr__(self, name, values[name])
        object.__setattr__(self, "sources", dict(sources))

    @classmethod
    def from_kwargs(cls, **options: Any) -> Config:
        """The configuration for ``serve(app, **options)``: keywords > default.

        No environment is read (as waitress's ``serve()``); ``BASTION_*`` variables are the
        ``bastion`` command's (``bastion.cli.load_config``).
        """
        return cls.from_layers([src.from_kwargs(options)])

    @classmethod
    def from_layers(cls, layers: Iterable[src.Layer]) -> Config:
        """Build from raw layers, highest precedence first; raises ``ConfigError``."""
        chosen = src.merge(layers)
        values: dict[str, Any] = {}
        origins: dict[str, str] = {}
        for option in OPTIONS:
            if option.name in chosen:
                raw, origin, _ = chosen[option.name]
                values[option.name] = _convert(option, raw, origin)
                origins[option.name] = origin
            else:
                values[option.name] = option.default
                origins[option.name] = src.DEFAULT
        _resolve_addresses(values, origins, chosen)
        _check_families(values, origins)
        _resolve_proxy(values, origins)
        _check_accounts(values, origins)
        return cls(values, origins)

    def as_dict(self) -> dict[str, Any]:
        """Every option's value, by name, in table order."""
        return {name: getattr(self, name) for name in _NAMES}

    def describe(self) -> str:
        """The effective configuration as TOML-like text: each value and where it came from."""
        lines = [f"# effective bastion configuration ({len(_NAMES)} options)"]
        for option in OPTIONS:
            value = getattr(self, option.name)
            origin = self.sources[option.name]
            rendered = render_value(option, value)
            setting = (
                f"# {option.name} is unset" if rendered is None else f"{option.name} = {rendered}"
            )
            lines.append(f"{setting:<40}  # {origin}")
        return "\n".join(lines) + "\n"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}: Config is read-only")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}: Config is read-only")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Config):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.as_dict().values()))

    def __repr__(self) -> str:
        changed = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in _NAMES
            if self.sources[name] != src.DEFAULT
        )
        return f"Config({changed})"


def _convert(option: Option, raw: Any, origin: str) -> Any:
    try:
        return option.convert(raw)
    except ValueError as error:
        raise ConfigError(
            f"invalid value for {option.name} ({origin}): {error}",
            option=option.name,
            source=origin,
        ) from None


def _resolve_addresses(
    values: dict[str, Any], origins: dict[str, str], chosen: Mapping[str, tuple[Any, str, int]]
) -> None:
    ranks: dict[str, tuple[int, str]] = {}
    for group, names in _ADDRESS_GROUPS:
        for name in names:
            if name in chosen and _is_set(values[name]):
                rank, origin = chosen[name][2], chosen[name][1]
                if group not in ranks or rank < ranks[group][0]:
                    ranks[group] = (rank, origin)
    if ranks:
        top = min(rank for rank, _ in ranks.values())
        rivals = [group for group, (rank, _) in ranks.items() if rank == top]
        if len(rivals) > 1:
            raise ConfigError(
                f"{rivals[0]} and {rivals[1]} cannot be used together "
                f"({ranks[rivals[0]][1]}, {ranks[rivals[1]][1]}): choose one way to listen",
                option=dict(_ADDRESS_GROUPS)[rivals[1]][0],
                source=ranks[rivals[1]][1],
            )
        winner = rivals[0]
        for group in ranks:
            if group == winner:
                continue
            for name in dict(_ADDRESS_GROUPS)[group]:
                values[name] = BY_NAME[name].default
                origins[name] = f"default; overridden by {winner} ({ranks[winner][1]})"
    else:
        winner = "host/port"
    if winner == "host/port":
        values["listen"] = ((values["host"], values["port"]),)
        host_port_origins = {origins["host"], origins["port"]} - {src.DEFAULT}
        origins["listen"] = (
            "from host/port: " + ", ".join(sorted(host_port_origins))
            if host_port_origins
            else src.DEFAULT
        )
    elif winner in ("unix_socket", "sockets"):
        values["listen"] = ()
        origins["listen"] = f"unused: {winner} is set"


def _is_set(value: Any) -> bool:
    return value is not None and value != ()


def _check_families(values: Mapping[str, Any], origins: Mapping[str, str]) -> None:
    if not values["ipv4"] and not values["ipv6"]:
        raise ConfigError(
            "ipv4 and ipv6 are both off: enable at least one",
            option="ipv4",
            source=origins["ipv4"],
        )
    if values["unix_socket"] and os.name == "nt":
        raise ConfigError(
            "unix_socket is not available on Windows",
            option="unix_socket",
            source=origins["unix_socket"],
        )


def _resolve_proxy(values: dict[str, Any], origins: dict[str, str]) -> None:
    """Apply bastion.proxy_rules, all of them, here and nowhere else in a server."""
    proxy, headers = values["trusted_proxy"], values["trusted_proxy_headers"]
    try:
        rules.check_proxy_protocol(
            proxy, values["proxy_protocol"], values["proxy_protocol_headers"]
        )
        rules.check_mode(proxy, values["trusted_proxy_mode"])
    except rules.Conflict as error:
        raise ConfigError(str(error), option=error.option, source=origins[error.option]) from None
    if values["trusted_proxy_count"] is None:
        values["trusted_proxy_count"] = rules.DEFAULT_COUNT
    # Warnings point at the caller of Config.from_kwargs (serve()'s caller, through serve).
    if not rules.headers_apply(values["proxy_protocol"], values["proxy_protocol_headers"]):
        unused = rules.preamble_only_headers(headers, stacklevel=4)
        _imply(values, origins, "trusted_proxy_headers", unused, "ignored: " + _PREAMBLE_ONLY)
        return
    implied = rules.implied_trusted_proxy(proxy, headers)
    _imply(values, origins, "trusted_proxy", implied, "implied by trusted_proxy_headers")
    headers = rules.serve_default_headers(proxy, headers, stacklevel=4)
    _imply(values, origins, "trusted_proxy_headers", headers, "implied by trusted_proxy")


_PREAMBLE_ONLY = "proxy_protocol without proxy_protocol_headers"


def _imply(
    values: dict[str, Any], origins: dict[str, str], name: str, value: Any, why: str
) -> None:
    if value != values[name]:
        values[name] = value
        origins[name] = why


def _check_accounts(values: Mapping[str, Any], origins: Mapping[str, str]) -> None:
    """bastion.privileges' rules without look-ups; the look-ups wait for start-up."""
    try:
        check_account_options(
            values["user"], values["group"], values["unix_socket_owner"], values["unix_socket"]
        )
    except ConfigError as error:
        error.source = origins.get(error.option or "")
        raise


def render_value(option: Option, value: Any) -> str | None:
    """``value`` as a TOML literal, or None when it cannot be written (unset, sockets)."""
    if value is None or option.name == "sockets":
        return None
    if option.name == "listen":
        return _toml_str(format_listen(value))
    if option.name == "unix_socket_perms":
        return _toml_str(format(value, "03o"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, frozenset | set):
        return _toml_str(" ".join(sorted(value)))
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_item(item) for item in value) + "]"
    return _toml_str(str(value))


def _toml_item(item: Any) -> str:
    if isinstance(item, tuple | list):
        return "[" + ", ".join(_toml_item(part) for part in item) + "]"
    if isinstance(item, bytes):
        return _toml_str(item.decode("latin-1"))
    if isinstance(item, str):
        return _toml_str(item)
    return repr(item)


def _toml_str(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(
        f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch for ch in escaped
    )
    return f'"{escaped}"'
