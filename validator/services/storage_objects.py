"""Stored objects and their placements on the validator. Each change is one transaction; a reply
owed to the facilitator is an outbox row written in that same transaction (sent by the node's
flusher), so a crash neither loses nor duplicates one."""

from typing import Literal
from uuid import UUID

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from protocol.messages.storage import (
    ObjectDeleted,
    ObjectFailed,
    ObjectFetched,
    ObjectHealth,
    ObjectHealthUpdate,
    ObjectStored,
    StorageFailureReason,
)
from protocol.storage.audit import AuditFailure
from validator.models import FacilitatorOutbox, Miner, ShareAudit, SharePlacement, StoredObject

Reply = ObjectStored | ObjectFetched | ObjectHealthUpdate | ObjectDeleted | ObjectFailed


def _outbox(message: Reply) -> None:
    FacilitatorOutbox.objects.create(job=None, payload=message.model_dump(mode="json"))


def object_health(obj: StoredObject) -> ObjectHealth:
    live = obj.placements.filter(status=SharePlacement.Status.LIVE).count()
    return ObjectHealth(shares=live, needed=obj.k, placed=obj.n, verified_at=obj.verified_at)


def object_failed_send(
    *,
    object_id: UUID,
    operation: Literal["store", "fetch", "delete"],
    reason: StorageFailureReason,
    detail: str,
    request_id: UUID | None = None,
) -> None:
    _outbox(
        ObjectFailed(
            object_id=object_id, operation=operation, request_id=request_id, reason=reason, detail=detail[:2000]
        )
    )


@transaction.atomic
def stored_object_begin(
    *, object_id: UUID, size: int, sha256: str, ciphertext_size: int, wrapped_key: bytes, k: int, n: int
) -> StoredObject:
    """The object as `placing` with its new key; a retried store starts over (its earlier
    placements must be gone or lost by then: placement cleans them up first)."""
    obj, _ = StoredObject.objects.update_or_create(
        id=object_id,
        defaults={
            "size": size,
            "sha256": sha256,
            "ciphertext_size": ciphertext_size,
            "wrapped_key": wrapped_key,
            "k": k,
            "n": n,
            "status": StoredObject.Status.PLACING,
            "verified_at": None,
        },
    )
    return obj


def placement_begin(
    *, obj: StoredObject, index: int, miner: Miner, size: int, chunk_bytes: int, root: str, share_id: UUID
) -> SharePlacement:
    """Recorded before the PUT, so a crash mid-upload leaves a row the cleanup sweep can delete."""
    return SharePlacement.objects.create(
        id=share_id,
        object=obj,
        index=index,
        miner=miner,
        coldkey=miner.coldkey or miner.hotkey,
        size=size,
        chunk_bytes=chunk_bytes,
        root=root,
    )


def placement_mark(*, placement_id: UUID, status: str, lost_reason: str = "") -> None:
    SharePlacement.objects.filter(pk=placement_id).update(status=status, lost_reason=lost_reason)


@transaction.atomic
def object_stored_record(*, object_id: UUID) -> None:
    """The object is stored: object.stored (its health) goes upstream. Also a resent store's answer."""
    obj = StoredObject.objects.select_for_update().get(pk=object_id)
    if obj.status not in (StoredObject.Status.PLACING, StoredObject.Status.STORED):
        return  # deleted (or failed) meanwhile: nothing to announce
    if obj.status == StoredObject.Status.PLACING:
        obj.status = StoredObject.Status.STORED
        obj.verified_at = timezone.now()  # every share was just verified against its root by the miner
        obj.save(update_fields=["status", "verified_at"])
    _outbox(ObjectStored(object_id=object_id, health=object_health(obj)))


@transaction.atomic
def object_store_failed(*, object_id: UUID, reason: StorageFailureReason, detail: str) -> None:
    StoredObject.objects.filter(pk=object_id, status=StoredObject.Status.PLACING).update(
        status=StoredObject.Status.FAILED
    )
    object_failed_send(object_id=object_id, operation="store", reason=reason, detail=detail)


@transaction.atomic
def placement_corrupt_record(*, placement_id: UUID, detail: str) -> None:
    """A read share that does not hash to its root: proven bad, so lost (rebuilt by repair) at once."""
    placement = SharePlacement.objects.select_for_update().get(pk=placement_id)
    ShareAudit.objects.create(placement=placement, passed=False, reason=AuditFailure.BAD_PROOF, detail=detail[:2000])
    SharePlacement.objects.filter(pk=placement_id).update(
        consecutive_failures=F("consecutive_failures") + 1,
        last_audit_at=timezone.now(),
        status=SharePlacement.Status.LOST,
        lost_reason="corrupt",
    )
    obj = StoredObject.objects.get(pk=placement.object_id)
    _outbox(ObjectHealthUpdate(object_id=obj.id, health=object_health(obj)))


@transaction.atomic
def object_fetched_record(*, object_id: UUID, request_id: UUID) -> None:
    _outbox(ObjectFetched(object_id=object_id, request_id=request_id))


@transaction.atomic
def object_fetch_failed(*, object_id: UUID, request_id: UUID, reason: StorageFailureReason, detail: str) -> None:
    object_failed_send(object_id=object_id, operation="fetch", request_id=request_id, reason=reason, detail=detail)


def object_deleting_mark(*, object_id: UUID) -> bool:
    """False when this validator holds no such object (nothing to delete on the miners)."""
    return StoredObject.objects.filter(pk=object_id).update(status=StoredObject.Status.DELETING) > 0


@transaction.atomic
def object_deleted_record(*, object_id: UUID) -> None:
    """object.deleted upstream; the object is `deleted` once no placement is left on any miner
    (else it stays `deleting` and the cleanup sweep deletes the rest)."""
    left = SharePlacement.objects.filter(object_id=object_id).exclude(status=SharePlacement.Status.DELETED)
    if not left.exists():
        StoredObject.objects.filter(pk=object_id).update(status=StoredObject.Status.DELETED)
    _outbox(ObjectDeleted(object_id=object_id))
