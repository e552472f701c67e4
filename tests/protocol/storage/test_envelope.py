import os
import stat
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.storage.envelope import (
    ObjectCorrupt,
    key_unwrap,
    key_wrap,
    object_decrypt,
    object_encrypt,
    storage_secret_load_or_create,
)

OBJECT = uuid.uuid4()


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=5000))
def test_round_trip(plaintext: bytes) -> None:
    key, ciphertext = object_encrypt(plaintext, object_id=OBJECT)
    assert object_decrypt(ciphertext, key=key, object_id=OBJECT) == plaintext


def test_each_object_gets_a_fresh_key_and_nonce() -> None:
    first = object_encrypt(b"same", object_id=OBJECT)
    second = object_encrypt(b"same", object_id=OBJECT)
    assert first[0] != second[0]
    assert first[1] != second[1]


@pytest.mark.parametrize("where", [0, 12, -1])  # the nonce, the ciphertext, the tag
def test_a_flipped_byte_anywhere_is_caught(where: int) -> None:
    key, ciphertext = object_encrypt(b"hello world", object_id=OBJECT)
    tampered = bytearray(ciphertext)
    tampered[where] ^= 1
    with pytest.raises(ObjectCorrupt):
        object_decrypt(bytes(tampered), key=key, object_id=OBJECT)


def test_another_objects_id_or_key_or_a_truncated_blob_is_refused() -> None:
    key, ciphertext = object_encrypt(b"hello", object_id=OBJECT)
    with pytest.raises(ObjectCorrupt):
        object_decrypt(ciphertext, key=key, object_id=uuid.uuid4())
    with pytest.raises(ObjectCorrupt):
        object_decrypt(ciphertext, key=os.urandom(32), object_id=OBJECT)
    with pytest.raises(ObjectCorrupt):
        object_decrypt(ciphertext[:20], key=key, object_id=OBJECT)


def test_wrapped_keys_unwrap_only_under_their_secret() -> None:
    secret, key = os.urandom(32), os.urandom(32)
    wrapped = key_wrap(key, secret=secret)
    assert wrapped != key
    assert key_unwrap(wrapped, secret=secret) == key
    with pytest.raises(ObjectCorrupt):
        key_unwrap(wrapped, secret=os.urandom(32))
    with pytest.raises(ObjectCorrupt):
        key_unwrap(wrapped[:-1], secret=secret)


def test_the_secret_is_made_once_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "validator-storage.key"
    secret = storage_secret_load_or_create(path)
    assert len(secret) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert storage_secret_load_or_create(path) == secret


def test_a_malformed_secret_file_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "bad.key"
    path.write_text("not hex")
    with pytest.raises(ValueError, match="not hex"):
        storage_secret_load_or_create(path)
    path.write_text("abcd")
    with pytest.raises(ValueError, match="32 bytes"):
        storage_secret_load_or_create(path)
