"""Objects encrypted with a fresh key each (AES-256-GCM from `cryptography`), keys wrapped under
the validator's storage secret (AES key wrap, RFC 3394). TO BE IMPLEMENTED (helper A)."""

from pathlib import Path
from uuid import UUID

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


class ObjectCorrupt(Exception):
    """The ciphertext, its tag or a wrapped key did not verify."""


def object_encrypt(plaintext: bytes, *, object_id: UUID) -> tuple[bytes, bytes]:
    """(fresh key, nonce || ciphertext || tag); the object id is the associated data."""
    raise NotImplementedError


def object_decrypt(ciphertext: bytes, *, key: bytes, object_id: UUID) -> bytes:
    raise NotImplementedError


def key_wrap(key: bytes, *, secret: bytes) -> bytes:
    raise NotImplementedError


def key_unwrap(wrapped: bytes, *, secret: bytes) -> bytes:
    raise NotImplementedError


def storage_secret_load_or_create(path: Path) -> bytes:
    """32 random bytes kept hex in a 0600 file, created (with its directory) on first use."""
    raise NotImplementedError
