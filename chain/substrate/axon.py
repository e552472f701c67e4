"""Serving addresses as subtensor stores them: an IP as u128 with its version, and a port."""

import ipaddress
from dataclasses import dataclass

from chain.interface import ChainError


@dataclass(frozen=True)
class AxonAddress:
    ip: int
    port: int
    ip_type: int  # 4 or 6


def parse_address(address: str) -> AxonAddress:
    """ "203.0.113.7:8000" or "[2001:db8::1]:8000"; a hostname is refused (the chain stores IPs)."""
    host, sep, port = address.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    try:
        ip = ipaddress.ip_address(host)
        port_number = int(port)
    except ValueError as exc:
        raise ChainError(f"{address!r} is not ip:port", name="InvalidAddress") from exc
    if not sep or not 0 < port_number < 65_536:
        raise ChainError(f"{address!r} is not ip:port", name="InvalidAddress")
    return AxonAddress(ip=int(ip), port=port_number, ip_type=ip.version)


def format_address(*, ip: int, port: int, ip_type: int) -> str | None:
    """The "host:port" a stored axon announces, or None when it announces nothing usable."""
    if not ip or not port:
        return None
    try:
        parsed = ipaddress.IPv4Address(ip) if ip_type == 4 else ipaddress.IPv6Address(ip)
    except ValueError:
        return None
    return f"{parsed}:{port}" if parsed.version == 4 else f"[{parsed}]:{port}"
