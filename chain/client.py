"""Picks the ChainClient named by `settings.CHAIN` and builds it from settings: the backends
themselves read no settings, so one built by hand gets exactly what it is given."""

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string
from substrateinterface import Keypair

from chain.interface import ChainClient
from chain.substrate.keyring import KeyRing, chain_key_load
from protocol.identity import node_hotkey
from protocol.keys import KeyFileError

logger = logging.getLogger(__name__)

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
            backend: Callable[..., ChainClient] = import_string(path)
            _clients[key] = backend(**_options(settings.CHAIN))
        return _clients[key]


def _options(name: str) -> dict[str, object]:
    if name == "local":
        return {"netuid": settings.CHAIN_NETUID}
    common = {
        "endpoint": settings.CHAIN_ENDPOINT,
        "keyring": default_keyring,  # loaded on the first signature
        "timeout_s": settings.CHAIN_TIMEOUT_S,
        "retries": settings.CHAIN_RETRIES,
        "block_seconds": settings.CHAIN_BLOCK_SECONDS,
    }
    if name == "hypertensor":
        return {**common, "subnet_id": settings.CHAIN_NETUID}
    return {**common, "netuid": settings.CHAIN_NETUID, "min_validator_stake": settings.MIN_VALIDATOR_STAKE}


def default_keyring() -> KeyRing:
    """This node's signing keys from settings; missing files only fail when a write needs them."""
    keypairs: list[Keypair] = []
    if settings.CHAIN_HOTKEY_PATH:
        keypairs.append(chain_key_load(settings.CHAIN_HOTKEY_PATH))
    else:
        try:
            keypairs.append(node_hotkey().keypair)
        except KeyFileError as exc:  # reads need no key; a write will say which key it lacks
            logger.info("chain: no node hotkey for signing yet (%s)", exc)
    coldkey = chain_key_load(settings.CHAIN_COLDKEY_PATH) if settings.CHAIN_COLDKEY_PATH else None
    return KeyRing(keypairs, coldkey=coldkey)


def chain_clients_close() -> None:
    """Close and forget every cached client (tests; a worker shutting down)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
