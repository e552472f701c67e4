"""Receiving a share: a body that ends early is refused and leaves no file (docs/storage.md)."""

import io
import os
from pathlib import Path

import pytest

from miner.models import ExecutorHost, StorageVolume
from miner.services.shares import ShareRefused, share_receive
from protocol.storage.proofs import share_leaves, share_root

pytestmark = pytest.mark.django_db


@pytest.fixture
def volume(tmp_path: Path) -> StorageVolume:
    host = ExecutorHost.objects.create(name="local", docker_url="local")
    return StorageVolume.objects.create(host=host, directory=str(tmp_path), capacity_bytes=10**6)


def test_a_truncated_body_is_refused_and_leaves_nothing(volume: StorageVolume, tmp_path: Path) -> None:
    body = io.BytesIO(b"x" * 100)
    with pytest.raises(ShareRefused) as refused:
        share_receive(read=body.read, length=1000, chunk_bytes=1024, volume=volume)
    assert refused.value.reason == "truncated"
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


@pytest.mark.parametrize("size", [0, 1, 1024, 1025, 5000])
def test_the_root_computed_while_streaming_is_the_shares_root(volume: StorageVolume, size: int) -> None:
    data = os.urandom(size)
    received = share_receive(read=io.BytesIO(data).read, length=size, chunk_bytes=1024, volume=volume)
    assert received.root == share_root(share_leaves(data, chunk_bytes=1024)).hex()
    assert received.temp.read_bytes() == data
