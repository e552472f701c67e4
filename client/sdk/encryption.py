"""Client-side encryption for storage (docs/storage.md): with it no node, not even the validator
that encrypts again, ever sees the plaintext. AES-256-GCM with a fresh key per object; the blob is
MAGIC || nonce || ciphertext+tag. Keys stay on this machine, one 0600 file per object id."""

import os
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from client.sdk.errors import InvalidArgument

MAGIC = b"MWENC1"
AAD = b"meshwork-client-v1"
NONCE_BYTES = 12


def keys_dir() -> Path:
    return Path(os.environ.get("MESHWORK_KEYS_DIR") or Path.home() / ".config" / "meshwork" / "keys")


def client_encrypt(plaintext: bytes) -> tuple[bytes, bytes]:
    """(key, blob)."""
    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    return key, MAGIC + nonce + AESGCM(key).encrypt(nonce, plaintext, AAD)


def is_client_encrypted(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


def client_decrypt(blob: bytes, *, key: bytes) -> bytes:
    if not is_client_encrypted(blob) or len(blob) < len(MAGIC) + NONCE_BYTES + 16:
        raise InvalidArgument("these bytes were not encrypted by `meshwork put --encrypt`")
    nonce = blob[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, blob[len(MAGIC) + NONCE_BYTES :], AAD)
    except (InvalidTag, ValueError):
        raise InvalidArgument("the key does not open these bytes (wrong key, or the bytes were changed)") from None


def key_save(object_id: UUID, key: bytes, *, directory: Path | None = None) -> Path:
    folder = directory or keys_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{object_id}.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex() + "\n")
    return path


def key_load(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"cannot read a key from {path}: {exc}") from exc
    if len(key) != 32:
        raise InvalidArgument(f"{path} does not hold a 32-byte key")
    return key


def key_path_for(object_id: UUID) -> Path:
    return keys_dir() / f"{object_id}.key"
