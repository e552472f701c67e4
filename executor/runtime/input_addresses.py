"""Which addresses a URL input may be fetched from: public unicast ones that are not this node's.

Judged on each address a host name resolves to, right before connecting to that very address
(executor/runtime/input_fetch.py), so DNS rebinding cannot slip a private address in between.
IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by the IPv4 address
they reach. The reason returned names the class for the miner's log; the user never sees it."""

import ipaddress
import socket
from collections.abc import Iterable

import psutil

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _table(rows: Iterable[tuple[str, str]]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(cidr), reason) for cidr, reason in rows)


# Named explicitly (not only through `is_global`, whose lists changed across Python releases) so
# the policy does not depend on the interpreter's patch level.
_REFUSED = _table(
    [
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared (CGNAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (incl. cloud metadata)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),  # before 240/4, which holds it: the first match names it
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible (deprecated)"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/23", "IETF protocol assignments (incl. Teredo)"),
        ("2001:db8::/32", "documentation"),
        ("fc00::/7", "unique local (ULA)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"),
    ]
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def address_parse(text: str) -> IPAddress:
    """An address as the resolver or an interface lists it; an IPv6 zone (`%eth0`) is dropped."""
    return ipaddress.ip_address(text.split("%", 1)[0])


def reached_address(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address really reaches when it embeds one, else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def own_addresses(configured: Iterable[IPNetwork] = ()) -> tuple[IPNetwork, ...]:
    """Every address of this host's interfaces, read now (they change), plus the configured ones."""
    found: list[IPNetwork] = list(configured)
    for entries in psutil.net_if_addrs().values():
        for entry in entries:
            if entry.family in (socket.AF_INET, socket.AF_INET6):
                found.append(ipaddress.ip_network(address_parse(entry.address)))
    return tuple(found)


def _within(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def address_refusal(
    address: IPAddress, *, own: Iterable[IPNetwork] = (), allowed: Iterable[IPNetwork] = ()
) -> str | None:
    """Why a URL input must not be fetched from `address`, or None when it may.

    `allowed` (the INPUT_URL_ALLOWED_NETWORKS setting, for tests and local use) overrides every
    other rule."""
    reached = reached_address(address)
    candidates = {address, reached}
    allowed, own = tuple(allowed), tuple(own)
    if any(_within(each, allowed) for each in candidates):
        return None
    if any(_within(each, own) for each in candidates):
        return "this node's own address"
    for each in candidates:
        for network, reason in _REFUSED:
            if each.version == network.version and each in network:
                return reason
    if not reached.is_global or reached.is_multicast or reached.is_reserved:
        return "not a public unicast address"
    return None
