from django.contrib import admin

from facilitator.models import CreditAccount, CreditTransaction, Job, JobStatusEvent, StoredObject, ValidatorSession
from protocol.admin_theme import ModelAdmin, TabularInline


class JobStatusEventInline(TabularInline[JobStatusEvent, Job]):
    model = JobStatusEvent
    extra = 0
    can_delete = False
    readonly_fields = ["status", "detail", "at"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Job)
class JobAdmin(ModelAdmin[Job]):
    list_display = ["uuid", "user", "status", "executor_class", "miner_hotkey", "cost", "created_at"]
    list_filter = ["status", "executor_class", "failure_kind"]
    search_fields = ["uuid", "tag", "miner_hotkey", "validator_hotkey"]
    readonly_fields = [f.name for f in Job._meta.fields]
    exclude = ["input"]
    inlines = [JobStatusEventInline]


@admin.register(CreditAccount)
class CreditAccountAdmin(ModelAdmin[CreditAccount]):
    list_display = ["user", "balance", "held"]
    readonly_fields = ["held"]


@admin.register(CreditTransaction)
class CreditTransactionAdmin(ModelAdmin[CreditTransaction]):
    list_display = ["account", "kind", "amount", "job", "attempt", "index", "created_at"]
    list_filter = ["kind"]
    readonly_fields = ["account", "kind", "amount", "job", "attempt", "index", "note", "created_at"]


@admin.register(ValidatorSession)
class ValidatorSessionAdmin(ModelAdmin[ValidatorSession]):
    list_display = ["hotkey", "connected_at", "disconnected_at"]
    readonly_fields = ["hotkey", "channel_name", "connected_at", "disconnected_at"]


@admin.register(StoredObject)
class StoredObjectAdmin(ModelAdmin[StoredObject]):
    list_display = ["name", "user", "size", "status", "shares", "needed", "placed", "validator_hotkey", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "id"]
