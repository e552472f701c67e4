import math

import pytest
from scalecodec.base import RuntimeConfiguration, ScaleBytes
from scalecodec.type_registry import load_type_registry_preset
from substrateinterface import Keypair

from chain.interface import ChainError
from chain.substrate.weights import U16_MAX, commit_hash, compact, new_salt, normalize_u16


def test_weights_are_max_upscaled_to_u16_with_zeros_dropped():
    assert normalize_u16({7: 0.5, 2: 1.0, 9: 0.0, 4: 0.25}) == ([2, 4, 7], [65535, 16384, 32768])


def test_a_single_weight_is_the_maximum():
    assert normalize_u16({3: 1e-9}) == ([3], [U16_MAX])


@pytest.mark.parametrize(
    ("weights", "name"),
    [
        ({1: -0.1, 2: 1.0}, "InvalidWeights"),
        ({1: math.nan}, "InvalidWeights"),
        ({1: math.inf}, "InvalidWeights"),
        ({1: 0.0, 2: 0.0}, "InvalidWeights"),
        ({}, "InvalidWeights"),
        ({70_000: 1.0}, "InvalidUid"),
    ],
)
def test_bad_weights_are_refused(weights, name):
    with pytest.raises(ChainError) as refused:
        normalize_u16(weights)
    assert refused.value.name == name


@pytest.mark.parametrize("n", [0, 1, 63, 64, 16_383, 16_384, 2**30 - 1, 2**30, 2**64 - 1])
def test_compact_matches_scalecodec(n):
    config = RuntimeConfiguration()
    config.update_type_registry(load_type_registry_preset("core"))
    reference = config.create_scale_object("Compact<u128>")
    assert compact(n) == bytes(reference.encode(n).data)
    assert config.create_scale_object("Compact<u128>", data=ScaleBytes(compact(n))).decode() == n


def test_commit_hash_is_the_one_the_spec_218_runtime_accepted_on_reveal():
    # Committed then revealed on the real runtime (spec 218, Chopsticks), which recomputes the hash.
    hotkey = Keypair.create_from_uri("//HotA")
    digest = commit_hash(
        account=bytes(hotkey.public_key),
        netuid=1,
        uids=[0, 1],
        values=[65535, 100],
        salt=[1, 2, 3, 4, 5, 6, 7, 8],
        version_key=0,
    )
    assert digest == "0xe9f3d23a52c0c43de404c16427fff3bc67529604c46c0b3e5e11932c57a11bb8"


def test_salts_are_fresh_u16_words():
    salts = [new_salt() for _ in range(20)]
    assert all(len(s) == 8 and all(0 <= w <= U16_MAX for w in s) for s in salts)
    assert len({tuple(s) for s in salts}) == 20
