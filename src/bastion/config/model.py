"""The frozen ``Config``: one attribute per option, built from layers of raw values.

Building converts every value, then applies the rules that span options, as waitress does:
host/port, listen, unix_socket and sockets are alternatives (two of them from the same
source is an error; from different sources, the higher-precedence one wins); ``listen``
ends up as the tuple of ``(host, port)`` pairs to bind; the trusted_proxy* options
require ``trusted_proxy``; with ``proxy_protocol`` the preamble alone names the client
unless ``proxy_protocol_headers`` lets the forwarding headers count.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import FrozenInstanceError
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
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
        """The configuration for ``serve(app, **options)``: keywords > ``BASTION_*`` > default."""
        return cls.from_layers([src.from_kwargs(options), src.from_env()])

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
        _check_families(values)
        _resolve_proxy(values, origins)
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


def _check_families(values: Mapping[str, Any]) -> None:
    if not values["ipv4"] and not values["ipv6"]:
        raise ConfigError("ipv4 and ipv6 are both off: enable at least one", option="ipv4")
    if values["unix_socket"] and os.name == "nt":
        raise ConfigError("unix_socket is not available on Windows", option="unix_socket")


def _resolve_proxy(values: dict[str, Any], origins: dict[str, str]) -> None:
    proxy = values["trusted_proxy"]
    if values["proxy_protocol"] and proxy is None:
        raise ConfigError(
            "proxy_protocol requires trusted_proxy: name the proxies allowed to send the "
            "PROXY preamble (addresses, CIDR networks, 'local' or 'unix')",
            option="proxy_protocol",
            source=origins["proxy_protocol"],
        )
    if values["proxy_protocol_headers"] and not values["proxy_protocol"]:
        raise ConfigError(
            "proxy_protocol_headers applies only with proxy_protocol: without the preamble, "
            "trusted_proxy_headers from trusted_proxy peers count already",
            option="proxy_protocol_headers",
            source=origins["proxy_protocol_headers"],
        )
    if values["trusted_proxy_count"] is None:
        values["trusted_proxy_count"] = 1
    if values["proxy_protocol"] and not values["proxy_protocol_headers"]:
        # Behind a TCP-mode balancer every header is the client's own (docs/proxies.md).
        if values["trusted_proxy_headers"]:
            warnings.warn(
                "proxy_protocol without proxy_protocol_headers: the PROXY preamble names the "
                "client, and trusted_proxy_headers are ignored and removed from every request; "
                "turn on proxy_protocol_headers only behind a balancer in HTTP mode that sets "
                "them",
                UserWarning,
                stacklevel=4,
            )
            values["trusted_proxy_headers"] = frozenset()
            origins["trusted_proxy_headers"] = (
                "ignored: proxy_protocol without proxy_protocol_headers"
            )
        return
    if proxy is None and values["trusted_proxy_headers"]:
        # Headers named with no proxy: trusted from this machine's peers only
        # (docs/proxies.md); waitress refuses this combination.
        values["trusted_proxy"] = ("local",)
        origins["trusted_proxy"] = "implied by trusted_proxy_headers"
        return
    if proxy is not None and not values["trusted_proxy_headers"]:
        warnings.warn(
            "trusted_proxy is set but trusted_proxy_headers is empty: implicitly trusting "
            "X-Forwarded-Proto, as waitress does; set trusted_proxy_headers explicitly",
            DeprecationWarning,
            stacklevel=4,
        )
        values["trusted_proxy_headers"] = frozenset(("x-forwarded-proto",))
        origins["trusted_proxy_headers"] = "implied by trusted_proxy"


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
