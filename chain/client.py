"""Picks the ChainClient named by `settings.CHAIN`."""

import threading

from django.conf import settings
from django.utils.module_loading import import_string

from chain.interface import ChainClient

BACKENDS = {
    "local": "chain.local.LocalChain",
    "subtensor": "chain.substrate.subtensor.SubtensorChain",
    "hypertensor": "chain.hypertensor.chain.HypertensorChain",
}
_clients: dict[tuple[str, str, int], ChainClient] = {}
_lock = threading.Lock()


def chain_client() -> ChainClient:
    """One client per process and configuration: a real chain's connection (and its decoded
    metadata) is reused; LocalChain is stateless."""
    key = (settings.CHAIN, settings.CHAIN_ENDPOINT, settings.CHAIN_NETUID)
    with _lock:
        if key not in _clients:
            try:
                path = BACKENDS[settings.CHAIN]
            except KeyError as exc:
                raise ValueError(f"CHAIN={settings.CHAIN!r}: expected one of {sorted(BACKENDS)}") from exc
            backend: type[ChainClient] = import_string(path)
            _clients[key] = backend()
        return _clients[key]


def chain_clients_close() -> None:
    """Close and forget every cached client (tests; a worker shutting down)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
