"""Where to join: bootnodes from settings (`DHT_BOOTNODES`, "host:port") and from the chain."""

import asyncio
import logging
from collections.abc import Iterable
from typing import Protocol

from chain.interface import Neuron
from dht.engine.transport import Addr

logger = logging.getLogger(__name__)


def parse_hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not host:port")
    return host.strip("[]"), int(port)


async def resolve(entries: Iterable[str]) -> list[Addr]:
    """Resolve "host:port" entries to IP addresses (peers are addressed by IP only)."""
    loop = asyncio.get_running_loop()
    out: list[Addr] = []
    for entry in entries:
        try:
            host, port = parse_hostport(entry)
            infos = await loop.getaddrinfo(host, port, type=2)  # SOCK_DGRAM
        except (ValueError, OSError) as exc:
            logger.warning("dht: ignoring bootnode %r: %s", entry, exc)
            continue
        if infos:
            out.append((str(infos[0][4][0]), int(infos[0][4][1])))
    return out


class NeuronSource(Protocol):
    def neurons(self) -> Iterable[Neuron]: ...


def chain_bootnodes(chain: NeuronSource, *, port_offset: int) -> list[str]:
    """A neuron serving on host:P is taken to run its DHT on host:P+offset (0: off)."""
    if port_offset <= 0:
        return []
    out = []
    for neuron in chain.neurons():
        if not neuron.address:
            continue
        try:
            host, port = parse_hostport(neuron.address)
        except ValueError as exc:
            logger.warning("dht: %s announces an unusable address on chain: %s", neuron.hotkey, exc)
            continue
        if 0 < port + port_offset < 65536:
            out.append(f"{host}:{port + port_offset}")
    return out
