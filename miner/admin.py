from django.contrib import admin

from miner.models import AcceptedJob, AccessRule, ExecutorHost, ExecutorSlot, KnownValidator
from protocol.admin_theme import ModelAdmin


@admin.register(AccessRule)
class AccessRuleAdmin(ModelAdmin[AccessRule]):
    list_display = ["list", "kind", "key", "note"]
    list_filter = ["list", "kind"]


@admin.register(KnownValidator)
class KnownValidatorAdmin(ModelAdmin[KnownValidator]):
    list_display = ["hotkey", "coldkey", "stake", "synced_at"]


@admin.register(ExecutorHost)
class ExecutorHostAdmin(ModelAdmin[ExecutorHost]):
    list_display = ["name", "docker_url"]


@admin.register(ExecutorSlot)
class ExecutorSlotAdmin(ModelAdmin[ExecutorSlot]):
    list_display = ["host", "executor_class", "index", "job_uuid", "claimed_at"]
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
