"""Objects encrypted with a fresh key each (AES-256-GCM from `cryptography`), keys wrapped under
the validator's storage secret (AES key wrap, RFC 3394), so a database dump alone opens nothing."""

import os
import secrets
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


class ObjectCorrupt(Exception):
    """The ciphertext, its tag or a wrapped key did not verify."""


def object_encrypt(plaintext: bytes, *, object_id: UUID) -> tuple[bytes, bytes]:
    """(fresh key, nonce || ciphertext || tag); the object id is the associated data, so a
    ciphertext cannot be passed off as another object's."""
    key = AESGCM.generate_key(bit_length=8 * KEY_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    return key, nonce + AESGCM(key).encrypt(nonce, plaintext, object_id.bytes)


def object_decrypt(ciphertext: bytes, *, key: bytes, object_id: UUID) -> bytes:
    if len(ciphertext) < NONCE_BYTES + TAG_BYTES or len(key) != KEY_BYTES:
        raise ObjectCorrupt("the ciphertext is shorter than its nonce and tag, or the key is not 32 bytes")
    try:
        return AESGCM(key).decrypt(ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], object_id.bytes)
    except InvalidTag:
        raise ObjectCorrupt("the ciphertext does not verify under its key") from None


def key_wrap(key: bytes, *, secret: bytes) -> bytes:
    return aes_key_wrap(secret, key)


def key_unwrap(wrapped: bytes, *, secret: bytes) -> bytes:
    try:
        return aes_key_unwrap(secret, wrapped)
    except (InvalidUnwrap, ValueError):
        raise ObjectCorrupt("the wrapped key does not unwrap under this secret") from None


def storage_secret_load_or_create(path: Path) -> bytes:
    """32 random bytes kept hex in a 0600 file, created (with its directory) on first use."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # two starters: one wins
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(KEY_BYTES) + "\n")
    text = path.read_text().strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{path}: the storage secret is not hex") from None
    if len(secret) != KEY_BYTES:
        raise ValueError(f"{path}: the storage secret must be {KEY_BYTES} bytes")
    return secret
