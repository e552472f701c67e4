"""The space this miner sells, divided among validators in proportion to stake (docs/storage.md).

Quotas are recomputed from the KnownValidator table in one transaction, so running it again, or
after a crash, gives the same table. A quota that shrinks evicts nothing: that validator's new
writes then need idle space. Idle space is what other validators leave unused: a validator may
borrow it while at least (1 − MINER_STORAGE_IDLE_BORROW) of every other validator's unused quota
stays free."""

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from miner.models import ExecutorHost, KnownValidator, StorageAllocation, StorageVolume, StoredShare
from protocol.apportion import largest_remainder


class StorageRefused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason  # "quota_exceeded" | "no_space"
        self.detail = detail


def storage_volumes_sync_from_settings() -> StorageVolume | None:
    """Seeds the first host's volume from the settings; one edited in the admin is left alone."""
    if settings.MINER_STORAGE_CAPACITY_BYTES <= 0:
        return None
    host = ExecutorHost.objects.order_by("id").first()
    if host is None:
        return None
    volume, _ = StorageVolume.objects.get_or_create(
        host=host,
        defaults={
            "directory": str(settings.MINER_STORAGE_DIR),
            "capacity_bytes": settings.MINER_STORAGE_CAPACITY_BYTES,
        },
    )
    Path(volume.directory).mkdir(parents=True, exist_ok=True)
    return volume


@transaction.atomic
def storage_allocations_recompute() -> int:
    capacity = StorageVolume.objects.aggregate(total=Sum("capacity_bytes"))["total"] or 0
    stakes = {v.hotkey: v.stake for v in KnownValidator.objects.filter(stake__gt=0)}
    quotas = largest_remainder(int(capacity), stakes)
    for hotkey, quota in quotas.items():
        StorageAllocation.objects.update_or_create(
            validator_hotkey=hotkey, defaults={"stake": stakes[hotkey], "quota_bytes": quota}
        )
    # A validator gone from the chain keeps no quota; what it stored stays until it deletes it.
    StorageAllocation.objects.exclude(validator_hotkey__in=list(quotas)).update(stake=0, quota_bytes=0)
    return len(quotas)


def _used_per_validator() -> dict[str, int]:
    rows = StoredShare.objects.values("validator_hotkey").annotate(used=Sum("size"))
    return {r["validator_hotkey"]: int(r["used"]) for r in rows}


def storage_available_for(*, validator_hotkey: str) -> int:
    """Bytes this validator may still store here: its unused quota, or what it may borrow."""
    capacity = int(StorageVolume.objects.aggregate(total=Sum("capacity_bytes"))["total"] or 0)
    used = _used_per_validator()
    quotas = dict(StorageAllocation.objects.values_list("validator_hotkey", "quota_bytes"))
    free = capacity - sum(used.values())
    own = max(0, quotas.get(validator_hotkey, 0) - used.get(validator_hotkey, 0))
    others_unused = sum(
        max(0, quota - used.get(hotkey, 0)) for hotkey, quota in quotas.items() if hotkey != validator_hotkey
    )
    reserved = int((1 - settings.MINER_STORAGE_IDLE_BORROW) * others_unused)
    return max(0, min(free, max(own, free - reserved)))


def storage_admit(*, validator_hotkey: str, size: int) -> StorageVolume:
    """The volume a share of `size` bytes goes on, or StorageRefused. Call inside a transaction
    that holds storage_lock(), so two writes never both take the last free bytes."""
    if size > storage_available_for(validator_hotkey=validator_hotkey):
        total = StorageVolume.objects.aggregate(total=Sum("capacity_bytes"))["total"] or 0
        used = sum(_used_per_validator().values())
        if used + size > total:
            raise StorageRefused("no_space", f"{total - used} bytes free of {total}")
        raise StorageRefused(
            "quota_exceeded", "beyond this validator's stake-proportional quota and borrowable idle space"
        )
    for volume in StorageVolume.objects.order_by("id"):
        held = volume.shares.aggregate(total=Sum("size"))["total"] or 0
        if held + size <= volume.capacity_bytes:
            return volume
    raise StorageRefused("no_space", "no single volume has room for the share")


def storage_lock() -> None:
    """Serializes admissions: every volume row locked until the transaction ends."""
    list(StorageVolume.objects.select_for_update().order_by("id").values_list("id", flat=True))
