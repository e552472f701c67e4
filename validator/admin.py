from django.contrib import admin

from validator.models import FacilitatorOutbox, Miner, MinerIncident, OrganicJob, OrganicJobEvent


class OrganicJobEventInline(admin.TabularInline[OrganicJobEvent, OrganicJob]):
    model = OrganicJobEvent
    extra = 0
    can_delete = False
    readonly_fields = ["status", "miner_hotkey", "detail", "at"]


@admin.register(OrganicJob)
class OrganicJobAdmin(admin.ModelAdmin[OrganicJob]):
    list_display = ["uuid", "status", "miner", "attempts", "executor_seconds", "created_at"]
    list_filter = ["status", "failure_kind"]
    readonly_fields = [f.name for f in OrganicJob._meta.fields]
    inlines = [OrganicJobEventInline]


@admin.register(Miner)
class MinerAdmin(admin.ModelAdmin[Miner]):
    list_display = ["hotkey", "uid", "address", "stake", "is_active", "synced_at"]
    list_filter = ["is_active"]


@admin.register(MinerIncident)
class MinerIncidentAdmin(admin.ModelAdmin[MinerIncident]):
    list_display = ["miner", "job_uuid", "reason", "at"]
    list_filter = ["reason"]


@admin.register(FacilitatorOutbox)
class FacilitatorOutboxAdmin(admin.ModelAdmin[FacilitatorOutbox]):
    list_display = ["job", "created_at", "sent_at"]
