"""Sealing: each placed share is XORed with a ChaCha20 keystream under a key derived (HKDF-SHA256)
from the validator's secret, the placement's share id and the miner's hotkey. Two miners never hold
the same bytes, and no miner can turn another's share into its own (it knows neither key).
TO BE IMPLEMENTED."""

from uuid import UUID


def seal_key(secret: bytes, *, share_id: UUID, miner_hotkey: str) -> bytes:
    raise NotImplementedError


def share_seal(share: bytes, *, key: bytes) -> bytes:
    """Also unseals (an XOR with the keystream)."""
    raise NotImplementedError
