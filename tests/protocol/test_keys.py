import json
import stat

import pytest

from protocol.keys import (
    Hotkey,
    KeyFileError,
    hotkey_create,
    hotkey_load,
    hotkey_write,
    is_ss58,
    verify_signature,
)

DATA = b"meshwork handshake bytes"


@pytest.mark.parametrize("crypto", ["sr25519", "ed25519"])
def test_sign_and_verify(crypto):
    hotkey, _ = hotkey_create(crypto)
    signature = hotkey.sign(DATA)
    assert signature.startswith("0x")
    assert verify_signature(ss58=hotkey.ss58, crypto=crypto, data=DATA, signature=signature) is True
    assert is_ss58(hotkey.ss58)


@pytest.mark.parametrize("crypto", ["sr25519", "ed25519"])
def test_signature_over_other_data_is_refused(crypto):
    hotkey, _ = hotkey_create(crypto)
    signature = hotkey.sign(DATA)
    assert verify_signature(ss58=hotkey.ss58, crypto=crypto, data=DATA + b"!", signature=signature) is False


@pytest.mark.parametrize("crypto", ["sr25519", "ed25519"])
def test_flipped_signature_byte_is_refused(crypto):
    hotkey, _ = hotkey_create(crypto)
    raw = bytearray(bytes.fromhex(hotkey.sign(DATA)[2:]))
    raw[10] ^= 0x01
    assert verify_signature(ss58=hotkey.ss58, crypto=crypto, data=DATA, signature="0x" + raw.hex()) is False


@pytest.mark.parametrize("crypto", ["sr25519", "ed25519"])
def test_signature_by_another_key_is_refused(crypto):
    signer, _ = hotkey_create(crypto)
    other, _ = hotkey_create(crypto)
    assert verify_signature(ss58=other.ss58, crypto=crypto, data=DATA, signature=signer.sign(DATA)) is False


def test_wrong_crypto_type_is_refused():
    hotkey, _ = hotkey_create("sr25519")
    signature = hotkey.sign(DATA)
    assert verify_signature(ss58=hotkey.ss58, crypto="ed25519", data=DATA, signature=signature) is False
    assert verify_signature(ss58=hotkey.ss58, crypto="ecdsa", data=DATA, signature=signature) is False


@pytest.mark.parametrize(
    "signature",
    ["", "0x", "0xzz", "not hex at all", "0x" + "ab" * 10, "0x" + "00" * 64, "0x" + "ff" * 65, "0xabc"],
)
def test_garbage_signature_is_false_not_an_exception(signature):
    hotkey, _ = hotkey_create()
    assert verify_signature(ss58=hotkey.ss58, crypto="sr25519", data=DATA, signature=signature) is False


@pytest.mark.parametrize("ss58", ["", "garbage", "5" * 48, "0x1234"])
def test_garbage_address_is_false_not_an_exception(ss58):
    hotkey, _ = hotkey_create()
    assert verify_signature(ss58=ss58, crypto="sr25519", data=DATA, signature=hotkey.sign(DATA)) is False
    assert is_ss58(ss58) is False


def test_same_seed_gives_same_key():
    hotkey, seed = hotkey_create("ed25519")
    again = Hotkey.from_seed(seed, "ed25519")
    assert again.ss58 == hotkey.ss58
    assert Hotkey.from_seed(seed, "sr25519").ss58 != hotkey.ss58


@pytest.mark.parametrize("crypto", ["sr25519", "ed25519"])
def test_key_file_round_trip_and_mode_0600(tmp_path, crypto):
    hotkey, seed = hotkey_create(crypto)
    path = tmp_path / "keys" / "hotkey.json"
    hotkey_write(path=path, hotkey=hotkey, seed_hex=seed)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"crypto": crypto, "secret_seed": seed, "ss58_address": hotkey.ss58}
    loaded = hotkey_load(path)
    assert (loaded.ss58, loaded.crypto) == (hotkey.ss58, crypto)
    assert verify_signature(ss58=hotkey.ss58, crypto=crypto, data=DATA, signature=loaded.sign(DATA))


def test_key_file_is_not_overwritten(tmp_path):
    first, first_seed = hotkey_create()
    second, second_seed = hotkey_create()
    path = tmp_path / "hotkey.json"
    hotkey_write(path=path, hotkey=first, seed_hex=first_seed)
    with pytest.raises(KeyFileError, match="exists"):
        hotkey_write(path=path, hotkey=second, seed_hex=second_seed)
    assert hotkey_load(path).ss58 == first.ss58
    hotkey_write(path=path, hotkey=second, seed_hex=second_seed, overwrite=True)
    assert hotkey_load(path).ss58 == second.ss58
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_overwrite_tightens_a_loose_mode(tmp_path):
    hotkey, seed = hotkey_create()
    path = tmp_path / "hotkey.json"
    path.write_text("{}")
    path.chmod(0o644)
    hotkey_write(path=path, hotkey=hotkey, seed_hex=seed, overwrite=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_missing_key_file(tmp_path):
    with pytest.raises(KeyFileError, match="keygen"):
        hotkey_load(tmp_path / "nope.json")


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        "{}",
        '{"secret_seed": "zz"}',
        '{"secret_seed": "abcd"}',
        '{"secret_seed": 5}',
        '{"secret_seed": "' + "00" * 32 + '", "crypto": "rsa"}',
    ],
)
def test_malformed_key_file(tmp_path, content):
    path = tmp_path / "hotkey.json"
    path.write_text(content)
    with pytest.raises(KeyFileError):
        hotkey_load(path)


def test_key_file_whose_address_does_not_match_its_seed(tmp_path):
    _, seed = hotkey_create()
    other, _ = hotkey_create()
    path = tmp_path / "hotkey.json"
    path.write_text(json.dumps({"crypto": "sr25519", "secret_seed": seed, "ss58_address": other.ss58}))
    with pytest.raises(KeyFileError, match="does not match"):
        hotkey_load(path)


def test_unreadable_key_file_is_a_key_file_error(tmp_path):
    # A directory where the key file should be: unreadable as a file.
    path = tmp_path / "hotkey.json"
    path.mkdir()
    with pytest.raises(KeyFileError):
        hotkey_load(path)
