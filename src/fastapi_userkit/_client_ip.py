"""The client's IP address: the socket peer, unless that peer is a trusted proxy.

`X-Forwarded-For` and `Forwarded` are read only when the direct peer is one of
the configured trusted proxies; the chain is then walked from the right, and the
first address that is not a trusted proxy is the client. Spoofed headers from
anyone else are ignored, so they cannot dodge or reset rate limits.
"""

import ipaddress
from collections.abc import Sequence

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    """Parse `"10.0.0.0/8"`-style CIDRs or single addresses; `ValueError` if invalid."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = value.strip().strip('"')
    if text.startswith("["):  # "[2001:db8::1]:4711"
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # "192.0.2.1:8080"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _forwarded_chain(connection: HTTPConnection) -> list[str]:
    forwarded = connection.headers.getlist("forwarded")
    if forwarded:
        chain = []
        for element in ",".join(forwarded).split(","):
            for pair in element.split(";"):
                name, _, value = pair.strip().partition("=")
                if name.lower() == "for":
                    chain.append(value)
        return chain
    return [
        part
        for header in connection.headers.getlist("x-forwarded-for")
        for part in header.split(",")
    ]


def client_ip(connection: HTTPConnection, trusted: Sequence[Network]) -> str:
    """Return the client address of *connection* as text (`"unknown"` if none)."""
    peer = connection.client.host if connection.client else None
    peer_address = _address(peer) if peer else None
    if peer_address is None:
        return peer[:45] if peer else UNKNOWN
    if not any(peer_address in network for network in trusted):
        return str(peer_address)
    client = peer_address
    for value in reversed(_forwarded_chain(connection)):
        address = _address(value)
        if address is None:
            break  # an unparsable hop: trust nothing further left
        client = address
        if not any(address in network for network in trusted):
            break
    return str(client)
