"""Matmul commitments in memory: bounded in count and bytes (oldest out first), expiring, per validator."""

import time
import uuid

import numpy as np
import pytest

from miner.benchmarks.commitments import Commitment, Commitments


def _commitment(n: int = 16) -> Commitment:
    return Commitment(matrix=np.zeros((n, n), dtype=np.float32), levels=[[b"x" * 32] * n])


@pytest.fixture(autouse=True)
def bounds(settings):
    settings.MINER_BENCH_MAX_COMMITS = 3
    settings.MINER_BENCH_MAX_COMMIT_BYTES = 10_000
    settings.MINER_BENCH_COMMIT_TTL_S = 60.0


def test_taken_once_and_only_by_its_validator():
    store, key = Commitments(), ("5Validator", uuid.uuid4())
    commitment = _commitment()
    assert store.put(key, commitment)
    assert store.take(("5Other", key[1])) is None
    assert store.take(key) is commitment
    assert store.take(key) is None


def test_the_oldest_go_first_past_the_count_bound():
    store = Commitments()
    keys = [("v", uuid.uuid4()) for _ in range(4)]
    for key in keys:
        store.put(key, _commitment())
    assert len(store) == 3
    assert store.take(keys[0]) is None
    assert store.take(keys[3]) is not None


def test_the_byte_bound_evicts_and_refuses_what_alone_exceeds_it():
    store = Commitments()
    first, second = ("v", uuid.uuid4()), ("v", uuid.uuid4())
    store.put(first, _commitment(32))  # 4096 + 1024 bytes
    store.put(second, _commitment(32))  # 10240 in all would exceed 10 000: the first goes
    assert store.take(first) is None
    assert store.nbytes() <= 10_000
    assert not store.put(("v", uuid.uuid4()), _commitment(64))  # 16 KiB alone
    assert store.take(second) is not None


def test_a_commitment_expires_after_the_ttl(monkeypatch):
    store, kept, expired = Commitments(), ("v", uuid.uuid4()), ("v", uuid.uuid4())
    now = time.monotonic()
    store.put(expired, _commitment())
    monkeypatch.setattr(time, "monotonic", lambda: now + 61)
    store.put(kept, _commitment())
    assert store.take(expired) is None
    assert store.take(kept) is not None
