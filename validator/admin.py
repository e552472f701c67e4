"""The validator's admin: miners and organic jobs, and, read-only, the records of what it verified
(manifests as received, benchmark cycles, their checks and each miner's part in them), the receipts
it holds and pulled, and the scores and weights made of them."""

from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib import admin
from django.db.models import Count, Model, Q
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from protocol.admin_theme import ModelAdmin, TabularInline
from validator.models import (
    BenchmarkCheck,
    BenchmarkCycle,
    FacilitatorOutbox,
    Miner,
    MinerCycle,
    MinerDecline,
    MinerIncident,
    MinerManifest,
    MinerScore,
    OrganicJob,
    OrganicJobEvent,
    ReceiptPull,
    ReceiptRecord,
    ScoringCycle,
    ShareAudit,
    SharePlacement,
    StoredObject,
    WeightSubmission,
)

if TYPE_CHECKING:
    from django.db.models import QuerySet

_M = TypeVar("_M", bound=Model)


class OrganicJobEventInline(TabularInline[OrganicJobEvent, OrganicJob]):
    model = OrganicJobEvent
    extra = 0
    can_delete = False
    readonly_fields = ["status", "miner_hotkey", "detail", "at"]


@admin.register(OrganicJob)
class OrganicJobAdmin(ModelAdmin[OrganicJob]):
    list_display = ["uuid", "status", "miner", "attempts", "executor_seconds", "created_at"]
    list_filter = ["status", "failure_kind"]
    readonly_fields = [f.name for f in OrganicJob._meta.fields]
    inlines = [OrganicJobEventInline]


@admin.register(Miner)
class MinerAdmin(ModelAdmin[Miner]):
    list_display = ["hotkey", "uid", "address", "stake", "is_active", "share_summary", "synced_at"]
    list_filter = ["is_active"]
    readonly_fields = ["share", "share_at"]  # the miner's word (share.standing), never edited here

    @admin.display(description="our share (in use / entitled of total)")
    def share_summary(self, obj: Miner) -> str:
        return ", ".join(
            f"{cls}: {s.get('in_use', 0)}/{s.get('entitled', 0)} of {s.get('total', 0)}"
            for cls, s in sorted((obj.share or {}).items())
        )


@admin.register(MinerIncident)
class MinerIncidentAdmin(ModelAdmin[MinerIncident]):
    list_display = ["miner", "job_uuid", "reason", "at"]
    list_filter = ["reason"]


@admin.register(FacilitatorOutbox)
class FacilitatorOutboxAdmin(ModelAdmin[FacilitatorOutbox]):
    list_display = ["job", "created_at", "sent_at"]


# --- what the validator verified: records, shown read-only ------------------------------------


class RecordAdmin(ModelAdmin[_M]):
    """Records of what was claimed and checked: viewable, never edited, added or deleted by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False


def _classes(totals: dict[str, int]) -> str:
    return ", ".join(f"{name} × {count}" for name, count in sorted(totals.items())) or "-"


@admin.register(MinerManifest)
class MinerManifestAdmin(RecordAdmin[MinerManifest]):
    list_display = ["miner", "received_at", "claimed", "host_count"]
    list_select_related = ["miner"]
    search_fields = ["miner__hotkey"]
    readonly_fields = ("miner", "received_at", "digest", "claimed", "hosts")
    fields = readonly_fields

    @admin.display(description="executors claimed")
    def claimed(self, obj: MinerManifest) -> str:
        return _classes(obj.totals)

    @admin.display(description="hosts")
    def host_count(self, obj: MinerManifest) -> int:
        return len(obj.payload.get("hosts", []))

    @admin.display(description="hosts and their specs")
    def hosts(self, obj: MinerManifest) -> SafeString:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (host.get("name", "?"), _classes(host.get("executors", {})), _specs(host.get("specs", {})))
                for host in obj.payload.get("hosts", [])
            ),
        )
        return format_html("<table><tr><th>host</th><th>executors</th><th>specs</th></tr>{}</table>", rows)


def _specs(specs: dict[str, Any]) -> str:
    """Host specs in one line. Read from the stored payload as dicts, so a manifest stored under an
    older schema still renders."""
    parts = [
        f"{specs.get('cpu_cores', 0)} cores {specs.get('cpu_model', '')}".strip(),
        f"{specs.get('memory_mb', 0) / 1024:.1f} GiB RAM",
        f"{specs.get('disk_mb', 0) / 1024:.1f} GiB disk",
    ]
    for gpu in specs.get("gpus", []):
        parts.append(f"GPU {gpu.get('model', '?')} ({gpu.get('memory_mb', 0) / 1024:.1f} GiB)")
    if specs.get("docker_engine_id"):
        parts.append(f"engine {specs['docker_engine_id']}")
    return "; ".join(parts)


@admin.register(BenchmarkCycle)
class BenchmarkCycleAdmin(RecordAdmin[BenchmarkCycle]):
    list_display = ["number", "kind", "started_at", "finished_at", "passed_checks", "failed_checks"]
    list_filter = ["kind"]
    readonly_fields = ("number", "kind", "started_at", "finished_at", "passed_checks", "failed_checks", "secret")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> "QuerySet[BenchmarkCycle]":
        return (
            super()
            .get_queryset(request)
            .annotate(
                passed=Count("checks", filter=Q(checks__passed=True)),
                failed=Count("checks", filter=Q(checks__passed=False)),
            )
        )

    @admin.display(description="passed checks", ordering="passed")
    def passed_checks(self, obj: BenchmarkCycle) -> int:
        return int(obj.passed)  # type: ignore[attr-defined]

    @admin.display(description="failed checks", ordering="failed")
    def failed_checks(self, obj: BenchmarkCycle) -> int:
        return int(obj.failed)  # type: ignore[attr-defined]


class RecentCycleFilter(admin.SimpleListFilter):
    """The last cycles only: listing every cycle ever run would grow without bound."""

    title = "cycle"
    parameter_name = "cycle"
    shown = 20

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(c.pk), str(c)) for c in BenchmarkCycle.objects.order_by("-id")[: self.shown]]

    def queryset(self, request: HttpRequest, queryset: "QuerySet[Any]") -> "QuerySet[Any]":
        value = self.value()
        return queryset.filter(cycle_id=value) if value and value.isdigit() else queryset


@admin.register(BenchmarkCheck)
class BenchmarkCheckAdmin(RecordAdmin[BenchmarkCheck]):
    list_display = [
        "cycle",
        "miner",
        "executor",
        "executor_class",
        "benchmark",
        "passed",
        "reason",
        "detail",
        "seconds",
        "deadline_s",
        "efficiency",
    ]
    list_filter = ["reason", "benchmark", "passed", RecentCycleFilter]
    list_select_related = ["cycle", "miner"]
    search_fields = ["miner__hotkey"]
    readonly_fields = [f.name for f in BenchmarkCheck._meta.fields]


@admin.register(MinerCycle)
class MinerCycleAdmin(RecordAdmin[MinerCycle]):
    list_display = ["cycle", "miner", "manifest", "newcomer", "reason", "detail"]
    list_filter = ["newcomer", "reason"]
    list_select_related = ["cycle", "miner", "manifest__miner"]
    search_fields = ["miner__hotkey"]
    readonly_fields = [f.name for f in MinerCycle._meta.fields]


# --- receipts, scores and weights (docs/scoring.md) ---------------------------------------

BY_MINER = ("miner", admin.RelatedOnlyFieldListFilter)  # only miners that have rows here


@admin.register(ReceiptRecord)
class ReceiptRecordAdmin(RecordAdmin[ReceiptRecord]):
    list_display = ["kind", "job_uuid", "index", "miner", "executor_class", "seconds", "outcome", "source", "at"]
    list_filter = [BY_MINER, "kind", "source", "job_kind", "outcome"]
    list_select_related = ["miner"]
    search_fields = ["miner__hotkey", "=job_uuid", "validator_hotkey"]
    readonly_fields = [f.name for f in ReceiptRecord._meta.fields]


@admin.register(ReceiptPull)
class ReceiptPullAdmin(RecordAdmin[ReceiptPull]):
    list_display = ["miner", "started_at", "pages", "accepted", "duplicates", "refused", "failure", "detail"]
    list_filter = [BY_MINER, "failure"]
    list_select_related = ["miner"]
    search_fields = ["miner__hotkey"]
    readonly_fields = [f.name for f in ReceiptPull._meta.fields]


@admin.register(MinerDecline)
class MinerDeclineAdmin(RecordAdmin[MinerDecline]):
    list_display = ["miner", "reason", "executor_class", "job_uuid", "at"]
    list_filter = [BY_MINER, "reason", "executor_class"]
    list_select_related = ["miner"]
    search_fields = ["miner__hotkey"]
    readonly_fields = [f.name for f in MinerDecline._meta.fields]


def _class_inputs(classes: list[dict[str, Any]]) -> str:
    return (
        "; ".join(
            f"{c.get('executor_class', '?')}: {c.get('verified', 0)}/{c.get('claimed', 0)} verified, "
            f"eff {c.get('efficiency', 1.0):g}, × {c.get('multiplier', 1.0):g}, "
            f"{c.get('organic_seconds', 0.0):g} s organic + {c.get('benchmark_seconds', 0.0):g} s benchmark "
            f"= {c.get('points', 0.0):g} pts"
            for c in classes
        )
        or "-"
    )


class MinerScoreInline(TabularInline[MinerScore, ScoringCycle]):
    model = MinerScore
    extra = max_num = 0  # shown, never added (every field is read-only, so never changed either)
    can_delete = False
    fields = readonly_fields = ("hotkey", "coldkey", "points", "score", "inputs", "penalty_reasons")

    @admin.display(description="per class: verified/claimed, efficiency, multiplier, seconds, points")
    def inputs(self, obj: MinerScore) -> str:
        return _class_inputs(obj.classes)

    @admin.display(description="penalties")
    def penalty_reasons(self, obj: MinerScore) -> str:
        return (
            "; ".join(
                f"{p.get('reason', '?')} × {p.get('factor', 1.0):g}: {p.get('detail', '')}" for p in obj.penalties
            )
            or "-"
        )


@admin.register(ScoringCycle)
class ScoringCycleAdmin(RecordAdmin[ScoringCycle]):
    list_display = ["number", "window_start", "window_end", "started_at", "finished_at", "miners", "weights_status"]
    list_select_related = ["weights"]
    fields = readonly_fields = ("number", "window_start", "window_end", "started_at", "finished_at", "weights_status")
    inlines = [MinerScoreInline]

    def get_queryset(self, request: HttpRequest) -> "QuerySet[ScoringCycle]":
        return super().get_queryset(request).annotate(scored=Count("scores"))

    @admin.display(description="miners scored", ordering="scored")
    def miners(self, obj: ScoringCycle) -> int:
        return int(obj.scored)  # type: ignore[attr-defined]

    @admin.display(description="weights")
    def weights_status(self, obj: ScoringCycle) -> str:
        try:
            return obj.weights.status
        except WeightSubmission.DoesNotExist:
            return "-"


@admin.register(WeightSubmission)
class WeightSubmissionAdmin(RecordAdmin[WeightSubmission]):
    list_display = ["cycle", "status", "block", "miners", "attempts", "reason", "updated_at"]
    list_filter = ["status"]
    list_select_related = ["cycle"]
    readonly_fields = [f.name for f in WeightSubmission._meta.fields]

    @admin.display(description="miners weighted")
    def miners(self, obj: WeightSubmission) -> int:
        return len(obj.values)


@admin.register(StoredObject)
class StoredObjectAdmin(ModelAdmin[StoredObject]):
    list_display = ["id", "size", "k", "n", "status", "verified_at", "created_at"]
    list_filter = ["status"]
    exclude = ["wrapped_key"]  # never shown, even wrapped
    readonly_fields = ["id", "size", "sha256", "ciphertext_size", "k", "n", "status", "verified_at", "created_at"]


@admin.register(SharePlacement)
class SharePlacementAdmin(ModelAdmin[SharePlacement]):
    list_display = ["id", "object", "index", "miner", "size", "status", "consecutive_failures", "last_passed_at"]
    list_filter = ["status", "lost_reason"]


@admin.register(ShareAudit)
class ShareAuditAdmin(ModelAdmin[ShareAudit]):
    list_display = ["placement", "at", "passed", "reason", "seconds"]
    list_filter = ["passed", "reason"]
