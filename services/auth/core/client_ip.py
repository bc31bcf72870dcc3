"""The client address: the gateway's X-Real-IP, believed only when the TCP peer is the gateway.

nginx sets X-Real-IP to the address it saw (after its own trusted-proxy handling). Anyone else who can
reach the service directly (another pod, a process on the host) could send any X-Real-IP, so the header
counts only when REMOTE_ADDR lies in GATEWAY_ADDRESSES; otherwise the peer itself is the client.
X-Forwarded-For is never read here: its entries are whatever the client and the proxies put there.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _valid_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:10.0.0.1 from a dual-stack socket is 10.0.0.1
    return address


@lru_cache(maxsize=8)
def gateway_networks_parse(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"GATEWAY_ADDRESSES: {cidr!r} is not an address or CIDR") from exc
    return tuple(networks)


def _from_gateway(peer: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    networks = gateway_networks_parse(tuple(settings.GATEWAY_ADDRESSES))
    return any(peer.version == network.version and peer in network for network in networks)


def client_ip_get(*, request: HttpRequest) -> str:
    peer = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return "unknown"
    if _from_gateway(peer):
        real_ip = _valid_ip(request.META.get("HTTP_X_REAL_IP", ""))
        if real_ip is not None:
            return str(real_ip)
    return str(peer)
