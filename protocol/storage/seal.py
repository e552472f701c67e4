"""Sealing: each placed share is XORed with a ChaCha20 keystream under a key derived (HKDF-SHA256)
from the validator's secret, the placement's share id and the miner's hotkey. Two miners never hold
the same bytes, and no miner can turn another's share into its own: it knows neither key."""

from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SEAL_INFO = b"meshwork-seal-v1"
# Each key seals exactly one placement (its share id is fresh), so a fixed nonce never repeats
# under one key: counter 0, nonce 0.
_NONCE = bytes(16)


def seal_key(secret: bytes, *, share_id: UUID, miner_hotkey: str) -> bytes:
    info = SEAL_INFO + share_id.bytes + miner_hotkey.encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def share_seal(share: bytes, *, key: bytes) -> bytes:
    """Also unseals (an XOR with the keystream)."""
    encryptor = Cipher(algorithms.ChaCha20(key, _NONCE), mode=None).encryptor()
    return encryptor.update(share) + encryptor.finalize()
