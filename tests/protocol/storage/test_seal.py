import os
import uuid

from protocol.storage.proofs import share_leaves, share_root
from protocol.storage.seal import seal_key, share_seal

SECRET = os.urandom(32)
SHARE = uuid.uuid4()


def test_unseal_of_seal_is_the_share() -> None:
    data = os.urandom(50_000)
    key = seal_key(SECRET, share_id=SHARE, miner_hotkey="5Alice")
    sealed = share_seal(data, key=key)
    assert sealed != data
    assert share_seal(sealed, key=key) == data


def test_keys_differ_per_miner_per_placement_and_per_secret() -> None:
    keys = {
        seal_key(SECRET, share_id=SHARE, miner_hotkey="5Alice"),
        seal_key(SECRET, share_id=SHARE, miner_hotkey="5Bob"),
        seal_key(SECRET, share_id=uuid.uuid4(), miner_hotkey="5Alice"),
        seal_key(os.urandom(32), share_id=SHARE, miner_hotkey="5Alice"),
    }
    assert len(keys) == 4


def test_one_share_sealed_for_two_miners_never_shares_bytes_or_a_root() -> None:
    data = bytes(40_000)  # worst case: a share of zeros
    for_alice = share_seal(data, key=seal_key(SECRET, share_id=SHARE, miner_hotkey="5Alice"))
    for_bob = share_seal(data, key=seal_key(SECRET, share_id=uuid.uuid4(), miner_hotkey="5Bob"))
    assert for_alice != for_bob
    assert share_root(share_leaves(for_alice, chunk_bytes=4096)) != share_root(share_leaves(for_bob, chunk_bytes=4096))
