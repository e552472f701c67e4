"""Picks the ChainClient named by `settings.CHAIN`."""

from django.conf import settings
from django.utils.module_loading import import_string

from chain.interface import ChainClient

BACKENDS = {
    "local": "chain.local.LocalChain",
}


def chain_client() -> ChainClient:
    try:
        path = BACKENDS[settings.CHAIN]
    except KeyError as exc:
        raise ValueError(f"CHAIN={settings.CHAIN!r}: expected one of {sorted(BACKENDS)}") from exc
    backend: type[ChainClient] = import_string(path)
    return backend()
