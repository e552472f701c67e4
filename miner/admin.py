from typing import Any

from django.contrib import admin
from django.db.models import Sum
from django.http import HttpRequest

from miner.models import (
    AcceptedJob,
    AccessRule,
    ClassPriceFloor,
    ExecutorHost,
    ExecutorSlot,
    KnownValidator,
    ShareDemand,
    StorageAllocation,
    StorageVolume,
    StoredShare,
)
from miner.services.manifest import manifest_publish
from protocol.admin_theme import ModelAdmin


@admin.register(AccessRule)
class AccessRuleAdmin(ModelAdmin[AccessRule]):
    list_display = ["list", "kind", "key", "note"]
    list_filter = ["list", "kind"]


@admin.register(ClassPriceFloor)
class ClassPriceFloorAdmin(ModelAdmin[ClassPriceFloor]):
    """The least price per executor-second this miner takes for a class (docs/market.md); a change
    goes out in the manifest at once, so validators stop routing jobs it would decline."""

    list_display = ["executor_class", "min_price"]

    def save_model(self, request: HttpRequest, obj: ClassPriceFloor, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        manifest_publish()

    def delete_model(self, request: HttpRequest, obj: ClassPriceFloor) -> None:
        super().delete_model(request, obj)
        manifest_publish()


@admin.register(ShareDemand)
class ShareDemandAdmin(ModelAdmin[ShareDemand]):
    list_display = ["validator_hotkey", "executor_class", "asked_at"]
    list_filter = ["executor_class"]


@admin.register(KnownValidator)
class KnownValidatorAdmin(ModelAdmin[KnownValidator]):
    list_display = ["hotkey", "coldkey", "stake", "synced_at"]


@admin.register(ExecutorHost)
class ExecutorHostAdmin(ModelAdmin[ExecutorHost]):
    list_display = ["name", "docker_url"]


@admin.register(ExecutorSlot)
class ExecutorSlotAdmin(ModelAdmin[ExecutorSlot]):
    list_display = ["host", "executor_class", "index", "job_uuid", "validator_hotkey", "claimed_at"]
    list_filter = ["executor_class", "host"]


@admin.register(AcceptedJob)
class AcceptedJobAdmin(ModelAdmin[AcceptedJob]):
    list_display = [
        "uuid",
        "validator_hotkey",
        "executor_class",
        "status",
        "exit_code",
        "executor_seconds",
        "created_at",
    ]
    list_filter = ["status", "executor_class"]


@admin.register(StorageVolume)
class StorageVolumeAdmin(ModelAdmin[StorageVolume]):
    """The space this miner sells: edit the directory or the capacity here (docs/storage.md)."""

    list_display = ["host", "directory", "capacity_bytes", "used_bytes"]

    @admin.display(description="used bytes")
    def used_bytes(self, volume: StorageVolume) -> int:
        return int(volume.shares.aggregate(total=Sum("size"))["total"] or 0)


@admin.register(StorageAllocation)
class StorageAllocationAdmin(ModelAdmin[StorageAllocation]):
    """Each validator's share of the space, in proportion to its stake (recomputed on every sync)."""

    list_display = ["validator_hotkey", "stake", "quota_bytes", "used_bytes", "computed_at"]
    readonly_fields = ["validator_hotkey", "stake", "quota_bytes", "computed_at"]

    @admin.display(description="used bytes")
    def used_bytes(self, allocation: StorageAllocation) -> int:
        held = StoredShare.objects.filter(validator_hotkey=allocation.validator_hotkey).aggregate(total=Sum("size"))
        return int(held["total"] or 0)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(StoredShare)
class StoredShareAdmin(ModelAdmin[StoredShare]):
    list_display = ["share_id", "validator_hotkey", "volume", "size", "created_at"]
    list_filter = ["validator_hotkey"]
    readonly_fields = ["share_id", "validator_hotkey", "volume", "size", "chunk_bytes", "root", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
