"""Audit results and what follows from them (docs/storage.md): each audit a ShareAudit row with a
machine-readable reason; failures in a row make a placement `lost` (repaired elsewhere); an object
whose live shares all passed is `verified_at` now, and the facilitator hears of it."""

from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from protocol.messages.storage import ObjectHealthUpdate
from validator.models import FacilitatorOutbox, ShareAudit, SharePlacement, StoredObject
from validator.services.storage_objects import object_health

Live = SharePlacement.Status.LIVE


def audits_claim_due(*, limit: int = 200, everything: bool = False) -> list[UUID]:
    """Live placements not audited within STORAGE_AUDIT_INTERVAL_S, each claimed by a conditional
    update of last_audit_at, so two workers never audit one placement in the same round."""
    now = timezone.now()
    due = Q(last_audit_at=None) | Q(last_audit_at__lt=now - timedelta(seconds=settings.STORAGE_AUDIT_INTERVAL_S))
    rows = SharePlacement.objects.filter(status=Live, object__status=StoredObject.Status.STORED)
    candidates = list((rows if everything else rows.filter(due)).values_list("id", "last_audit_at")[:limit])
    claimed = []
    for placement_id, seen in candidates:
        if SharePlacement.objects.filter(id=placement_id, last_audit_at=seen).update(last_audit_at=now):
            claimed.append(placement_id)
    return claimed


def _health_send(obj: StoredObject) -> None:
    message = ObjectHealthUpdate(object_id=obj.id, health=object_health(obj))
    FacilitatorOutbox.objects.create(job=None, payload=message.model_dump(mode="json"))


@transaction.atomic
def share_audit_record(*, placement_id: UUID, passed: bool, reason: str, detail: str, seconds: float) -> ShareAudit:
    now = timezone.now()
    placement = SharePlacement.objects.select_for_update().select_related("object").get(id=placement_id)
    audit = ShareAudit.objects.create(
        placement=placement, passed=passed, reason=reason, detail=detail[:2000], seconds=seconds
    )
    if passed:
        SharePlacement.objects.filter(id=placement_id).update(
            consecutive_failures=0, last_audit_at=now, last_passed_at=now
        )
    else:
        SharePlacement.objects.filter(id=placement_id).update(
            consecutive_failures=F("consecutive_failures") + 1, last_audit_at=now
        )
    obj = placement.object
    live = SharePlacement.objects.filter(object=obj, status=Live)
    if passed and not live.filter(Q(consecutive_failures__gt=0) | Q(last_passed_at=None)).exists():
        StoredObject.objects.filter(id=obj.id).update(verified_at=now)
        obj.verified_at = now
        _health_send(obj)
    return audit


@transaction.atomic
def placements_mark_lost() -> list[UUID]:
    """Live placements that failed STORAGE_REPAIR_AFTER_FAILURES audits in a row, or whose miner
    left the metagraph, become `lost`; the objects they belong to (to repair)."""
    failing = SharePlacement.objects.filter(
        status=Live, consecutive_failures__gte=settings.STORAGE_REPAIR_AFTER_FAILURES
    ).select_for_update()
    gone = SharePlacement.objects.filter(status=Live, miner__is_active=False).select_for_update()
    objects: set[UUID] = set()
    for placement, why in [(p, "audits_failed") for p in failing] + [(p, "miner_gone") for p in gone]:
        last = placement.audits.order_by("-at").values_list("reason", flat=True).first()
        reason = f"{why}:{last}" if why == "audits_failed" and last else why
        SharePlacement.objects.filter(id=placement.id, status=Live).update(
            status=SharePlacement.Status.LOST, lost_reason=reason[:32]
        )
        objects.add(placement.object_id)
    return sorted(objects, key=str)


def objects_needing_repair(*, limit: int = 100) -> list[UUID]:
    """Stored objects with fewer live shares than they should have."""
    short = (
        StoredObject.objects.filter(status=StoredObject.Status.STORED)
        .annotate(live=Count("placements", filter=Q(placements__status=Live)))
        .filter(live__lt=F("n"))
        .order_by("created_at")
    )
    return list(short.values_list("id", flat=True)[:limit])


@transaction.atomic
def object_health_send(*, object_id: UUID) -> None:
    obj = StoredObject.objects.get(id=object_id)
    _health_send(obj)
