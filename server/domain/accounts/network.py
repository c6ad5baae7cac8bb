"""Client address (behind trusted proxies) and the LGWAN / allow-list checks."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(value: str | None) -> IPAddress | None:
    if not value:
        return None
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def in_networks(ip: str | None, networks: Iterable[str]) -> bool:
    """True if ``ip`` is inside one of the CIDRs; a missing or unparsable address is outside."""
    addr = parse_ip(ip)
    if addr is None:
        return False
    for cidr in networks:
        network = _network(cidr)
        if network is not None and addr in network:
            return True
    return False


@functools.lru_cache(maxsize=1024)
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """``cidr`` parsed (None if it is not one), once per process: every request checks the
    settings' and the allow-list's networks."""
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None


def client_ip(peer: str | None, headers: Mapping[str, str], trusted_proxies: Iterable[str]) -> str | None:
    """The client address: the peer, or the right-most untrusted ``X-Forwarded-For`` entry when
    the peer is a trusted proxy."""
    trusted = list(trusted_proxies)
    if not trusted or not in_networks(peer, trusted):
        return peer
    forwarded = [p.strip() for p in headers.get("x-forwarded-for", "").split(",") if p.strip()]
    for hop in reversed(forwarded):
        if not in_networks(hop, trusted):
            return hop if parse_ip(hop) else None
    return peer
