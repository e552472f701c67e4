"""Identifiers on the 256-bit ring: node id = SHA-256 of the hotkey (S/Kademlia: a node cannot pick
its position without also holding a key the chain has staked), key id = SHA-256 of the record key."""

import hashlib
from functools import lru_cache

ID_BITS = 256


@lru_cache(maxsize=65_536)  # every lookup reply names ~20 peers; hashing them again each time adds up
def node_id(hotkey: str) -> int:
    return int.from_bytes(hashlib.sha256(b"meshwork-dht-node:" + hotkey.encode()).digest(), "big")


def key_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(b"meshwork-dht-key:" + key.encode()).digest(), "big")


def bucket_index(own: int, other: int) -> int:
    """Index of the k-bucket `other` falls in: the position of the highest differing bit."""
    return (own ^ other).bit_length() - 1


def id_hex(value: int) -> str:
    return f"{value:064x}"


def id_from_hex(text: str) -> int:
    if len(text) != 64:
        raise ValueError("an id is 64 hex digits")
    return int(text, 16)
