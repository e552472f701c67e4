"""Space per validator ∝ stake (docs/storage.md): exact quotas, re-balanced when stake changes,
idle space borrowable within MINER_STORAGE_IDLE_BORROW, no eviction, concurrent admission safe."""

import uuid
from pathlib import Path
from typing import Any

import pytest

from miner.models import ExecutorHost, KnownValidator, StorageAllocation, StorageVolume, StoredShare
from miner.services.access import validators_sync_from_chain
from miner.services.storage_space import (
    StorageRefused,
    storage_admit,
    storage_allocations_recompute,
    storage_available_for,
    storage_volumes_sync_from_settings,
)
from tests.miner.factories import KnownValidatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def volume(tmp_path: Path) -> StorageVolume:
    host = ExecutorHost.objects.create(name="local", docker_url="local")
    return StorageVolume.objects.create(host=host, directory=str(tmp_path), capacity_bytes=1000)


def quotas() -> dict[str, int]:
    return dict(StorageAllocation.objects.values_list("validator_hotkey", "quota_bytes"))


def store(volume: StorageVolume, hotkey: str, size: int) -> None:
    StoredShare.objects.create(
        share_id=uuid.uuid4(), validator_hotkey=hotkey, volume=volume, size=size, chunk_bytes=1024, root="0" * 64
    )


def test_quotas_follow_stake_and_sum_to_the_capacity_exactly(volume: StorageVolume) -> None:
    for hotkey, stake in [("a", 1), ("b", 1), ("c", 1), ("zero", 0)]:
        KnownValidatorFactory.create(hotkey=hotkey, stake=stake)
    storage_allocations_recompute()
    assert sorted(quotas().values()) == [333, 333, 334]
    assert "zero" not in quotas()
    assert storage_allocations_recompute() == 3  # again: the same table
    assert sum(quotas().values()) == 1000


def test_a_stake_change_rebalances_without_evicting(volume: StorageVolume) -> None:
    KnownValidatorFactory.create(hotkey="a", stake=1)
    KnownValidatorFactory.create(hotkey="b", stake=1)
    storage_allocations_recompute()
    store(volume, "a", 500)
    KnownValidator.objects.filter(hotkey="b").update(stake=3)
    storage_allocations_recompute()
    assert quotas() == {"a": 250, "b": 750}
    assert StoredShare.objects.filter(validator_hotkey="a").count() == 1  # kept though over quota
    assert storage_available_for(validator_hotkey="b") == 500  # what is left on disk


def test_a_small_validator_borrows_idle_space_but_not_all_of_it(volume: StorageVolume, settings: Any) -> None:
    settings.MINER_STORAGE_IDLE_BORROW = 0.5
    KnownValidatorFactory.create(hotkey="small", stake=1)
    KnownValidatorFactory.create(hotkey="big", stake=9)
    storage_allocations_recompute()
    assert quotas() == {"small": 100, "big": 900}
    # 100 own + half of big's unused 900 may be borrowed
    assert storage_available_for(validator_hotkey="small") == 550
    storage_admit(validator_hotkey="small", size=550)
    with pytest.raises(StorageRefused) as refused:
        storage_admit(validator_hotkey="small", size=551)
    assert refused.value.reason == "quota_exceeded"
    settings.MINER_STORAGE_IDLE_BORROW = 0.0
    assert storage_available_for(validator_hotkey="small") == 100


def test_a_full_disk_is_no_space(volume: StorageVolume) -> None:
    KnownValidatorFactory.create(hotkey="a", stake=1)
    storage_allocations_recompute()
    store(volume, "a", 1000)
    with pytest.raises(StorageRefused) as refused:
        storage_admit(validator_hotkey="a", size=1)
    assert refused.value.reason == "no_space"


def test_validators_sync_recomputes_the_quotas(volume: StorageVolume, local_chain: Any) -> None:
    KnownValidatorFactory.create(hotkey="gone", stake=5)
    storage_allocations_recompute()
    validators_sync_from_chain()  # the local chain has no such validator
    assert quotas().get("gone", 0) == 0


def test_the_first_hosts_volume_is_seeded_from_settings_once(tmp_path: Path, settings: Any) -> None:
    ExecutorHost.objects.create(name="local", docker_url="local")
    settings.MINER_STORAGE_CAPACITY_BYTES = 5000
    settings.MINER_STORAGE_DIR = tmp_path / "seeded"
    volume = storage_volumes_sync_from_settings()
    assert volume is not None
    assert volume.capacity_bytes == 5000
    assert (tmp_path / "seeded").is_dir()
    StorageVolume.objects.update(capacity_bytes=42)  # edited in the admin
    storage_volumes_sync_from_settings()
    assert StorageVolume.objects.get().capacity_bytes == 42
