"""The addresses bastion trusts as proxies: the ``trusted_proxy`` option and its matcher.

``validate_trusted_proxy`` checks the option; :class:`TrustedPeers` answers whether a peer
is a trusted proxy.  An IPv4-mapped IPv6 address is its IPv4 address here as everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

from .._word_lists import split_words
from ..http.memo import Bound, remember
from .forwarded import unmapped

#: The environ key a server sets when REMOTE_ADDR is not the immediate peer's address:
#: ``"unix"`` for a peer on a unix socket, or the peer's IP address when the PROXY
#: protocol set REMOTE_ADDR to the client's.
PEER_KIND_KEY = "bastion.peer"


_LOOPBACK = (IPv4Network("127.0.0.0/8"), IPv6Network("::1/128"))
_MAPPED = IPv6Network("::ffff:0:0/96")
_KEYWORDS = ("*", "local", "unix")


def option_names(value: Any, option: str) -> list[str]:
    """The entries of a list option given as a string (commas or spaces) or a list of strings."""
    if isinstance(value, str):
        return split_words(value)
    if isinstance(value, Iterable) and all(isinstance(item, str) for item in value):
        return [part for item in value for part in split_words(item)]
    raise ValueError(f"{option}: expected a string or a list of strings, got {value!r}")


def validate_trusted_proxy(value: Any) -> tuple[str, ...] | None:
    """Check ``trusted_proxy``: None, or addresses, CIDR networks, ``*``, ``local``, ``unix``.

    A string may list several, separated by commas or spaces.  Returns the entries in
    canonical form (an address becomes a /32 or /128 network); None when there are none.
    """
    if value is None:
        return None
    result = []
    for entry in option_names(value, "trusted_proxy"):
        if entry.lower() in _KEYWORDS:
            result.append(entry.lower())
            continue
        try:
            result.append(str(_unmapped_network(ip_network(entry.strip("[]"), strict=True))))
        except ValueError:
            raise ValueError(
                f"trusted_proxy: {entry!r} is not an IP address, a CIDR network (host bits "
                "zero, e.g. 10.0.0.0/8), '*' (any peer), 'local' (loopback and unix-socket "
                "peers) or 'unix' (unix-socket peers)"
            ) from None
    if "*" in result and len(result) > 1:
        raise ValueError("trusted_proxy: '*' trusts every peer and cannot be combined")
    return tuple(result) or None


# Addresses a TrustedPeers already looked up, up to 64 characters (an IPv6 address with
# a zone and brackets is at most 63): 1,024 x 64 = 64 KiB per TrustedPeers.
_KNOWN_PEERS = Bound(1024, 64, lambda address, trusted: len(address))


class TrustedPeers:
    """Answers "is this address a trusted proxy?" for entries from ``validate_trusted_proxy``."""

    __slots__ = ("_known", "any", "networks", "unix")

    def __init__(self, entries: Iterable[str]) -> None:
        entries = tuple(entries)
        self.any = "*" in entries
        nets: list[IPv4Network | IPv6Network] = []
        for entry in entries:
            if entry == "local":
                nets.extend(_LOOPBACK)
            elif entry not in _KEYWORDS:
                nets.append(ip_network(entry))
        self.networks = tuple(nets)
        # A unix socket is reachable only from this host, so whoever trusts a loopback
        # address (which any local process can connect from) trusts it too.
        self.unix = self.any or "unix" in entries or any(_is_loopback(net) for net in nets)
        self._known: dict[str, bool] = {}  # addresses already looked up (_KNOWN_PEERS)

    def contains(self, address: str) -> bool:
        """True when ``address`` (IP text, brackets allowed) is in a trusted network."""
        known = self._known.get(address)
        if known is None:
            known = self._contains(address)
            remember(self._known, address, known, _KNOWN_PEERS)
        return known

    def _contains(self, address: str) -> bool:
        if self.any:
            return True
        try:
            ip = ip_address(address.strip("[]"))
        except ValueError:
            return False
        ip = unmapped(ip)
        return any(ip in net for net in self.networks)

    def trusts(self, environ: Mapping[str, Any]) -> bool:
        """True when the request's immediate peer is a trusted proxy."""
        peer = environ.get(PEER_KIND_KEY)
        if peer == "unix":
            return self.unix
        if peer is None:
            peer = environ.get("REMOTE_ADDR")
        return isinstance(peer, str) and self.contains(peer)


def _unmapped_network(net: IPv4Network | IPv6Network) -> IPv4Network | IPv6Network:
    """An IPv4-mapped IPv6 network (``::ffff:10.0.0.0/104``) as the IPv4 one it stands for."""
    if isinstance(net, IPv6Network) and net.prefixlen >= 96 and net.subnet_of(_MAPPED):
        return IPv4Network((unmapped(net.network_address), net.prefixlen - 96))
    return net


def _is_loopback(net: IPv4Network | IPv6Network) -> bool:
    return any(net.overlaps(loop) for loop in _LOOPBACK if loop.version == net.version)
