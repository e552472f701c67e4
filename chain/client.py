"""Picks the ChainClient named by `settings.CHAIN`."""

import functools

from django.conf import settings
from django.utils.module_loading import import_string

from chain.interface import ChainClient

BACKENDS = {
    "local": "chain.local.LocalChain",
    "subtensor": "chain.substrate.subtensor.SubtensorChain",
    "hypertensor": "chain.hypertensor.chain.HypertensorChain",
}


def chain_client() -> ChainClient:
    """One client per process and configuration: a real chain's connection (and its decoded
    metadata) is reused; LocalChain is stateless."""
    return _client(settings.CHAIN, settings.CHAIN_ENDPOINT, settings.CHAIN_NETUID)


@functools.lru_cache(maxsize=8)
def _client(chain: str, endpoint: str, netuid: int) -> ChainClient:
    try:
        path = BACKENDS[chain]
    except KeyError as exc:
        raise ValueError(f"CHAIN={chain!r}: expected one of {sorted(BACKENDS)}") from exc
    backend: type[ChainClient] = import_string(path)
    return backend()
