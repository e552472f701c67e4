"""UDP transport.

Why datagrams rather than the Channels websockets the roles use: Kademlia traffic is small,
independent request/response pairs to many short-lived contacts. Over UDP a node keeps one socket
however many peers it talks to (a websocket mesh needs a connection, a TLS/handshake round trip and
a buffer per peer, up to N² for a swarm), a lost or dead peer costs one timeout instead of a hung
connection, and there is no head-of-line blocking between lookups. What websockets would give us
(authentication, integrity, replay protection) is done per datagram instead: each one is a signed
envelope with a nonce (dht/wire.py). Datagram size is capped (DHT_MAX_DATAGRAM_BYTES); records are
small and large key sets are paged, so nothing relies on stream reassembly."""

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from functools import lru_cache
from typing import cast

logger = logging.getLogger(__name__)

Addr = tuple[str, int]
# (source, destination) -> deliver? Lets tests partition a swarm; None delivers everything.
LinkFilter = Callable[[Addr, Addr], bool]


class UdpEndpoint(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, Addr], None]) -> None:
        self._on_datagram = on_datagram
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's datagram transport does not subclass DatagramTransport in 3.11.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        host, port = str(addr[0]), int(str(addr[1]))
        self._on_datagram(data, (host, port))

    def error_received(self, exc: Exception) -> None:
        # ICMP port-unreachable from a dead peer lands here; the RPC timeout handles it.
        logger.debug("dht: socket error %s", exc)

    def send(self, data: bytes, addr: Addr) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(data, addr)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    @property
    def sockname(self) -> Addr:
        assert self._transport is not None
        name = self._transport.get_extra_info("sockname")
        return (str(name[0]), int(name[1]))


class AddressPolicy:
    """Which peer addresses we will ever send to: IP literals only, never unspecified, multicast or
    broadcast addresses (a reflection vector), and inside `allowed_networks` when any are set."""

    def __init__(self, allowed_networks: tuple[str, ...] = ()) -> None:
        self._networks = [ipaddress.ip_network(n, strict=False) for n in allowed_networks]

    def allowed(self, host: str, port: int) -> bool:
        return 0 < port <= 65535 and self._host_allowed(host)

    @lru_cache(maxsize=4096)  # noqa: B019 -- one policy per node, hosts repeat constantly
    def _host_allowed(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket: judge that
        if ip.is_unspecified or ip.is_multicast:
            return False
        if isinstance(ip, ipaddress.IPv4Address) and ip == ipaddress.IPv4Address("255.255.255.255"):
            return False
        return not self._networks or any(ip in net for net in self._networks)
