"""Users' objects on the facilitator (docs/storage.md): an upload is staged (streamed to a file
with its sha256) and handed to a live validator, which places it and answers; the answers move the
object's status by compare-and-set, so a resent or late answer changes nothing twice. Plaintext is
kept only until the validator has it."""

import hashlib
import logging
import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from facilitator.models import CreditAccount, StoredObject
from facilitator.notify import notify_object_watchers_on_commit, send_to_validator_on_commit
from facilitator.selectors import validator_sessions_live
from facilitator.services.credits import InsufficientCredits
from protocol.messages.storage import (
    ObjectDeleteRequest,
    ObjectFailed,
    ObjectHealth,
    ObjectStoreRequest,
)

logger = logging.getLogger(__name__)
READ_BYTES = 1024 * 1024
Status = StoredObject.Status


class UploadRefused(Exception):
    def __init__(self, status: int, field: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.field = field
        self.reason = reason


def staging_path(object_id: UUID) -> Path:
    return Path(settings.STORAGE_STAGING_DIR) / f"{object_id}.upload"


def storage_prepaid_cost(size: int) -> Decimal:
    cost = Decimal(size) / Decimal(10**9) * Decimal(str(settings.STORAGE_PRICE_PER_GB_HOUR))
    return (cost * Decimal(str(settings.STORAGE_PREPAID_HOURS))).quantize(Decimal("0.000001"))


def storage_credits_check(*, user: User, size: int) -> None:
    account = CreditAccount.objects.filter(user=user).first()
    available = (account.balance - account.held) if account else Decimal(0)
    needed = storage_prepaid_cost(size)
    if available <= 0 or available < needed:
        raise InsufficientCredits(needed=needed, available=available)


def object_stage(
    *, user: User, name: str, length: int, read: Callable[[int], bytes], object_id: UUID | None = None
) -> StoredObject:
    """Streams the upload to the staging directory and hands it to a live validator (after
    commit). Nothing is left behind when it fails."""
    sessions = validator_sessions_live()
    if not sessions:
        raise UploadRefused(503, "detail", "no validator is online to store the object; try again shortly")
    object_id = object_id or uuid4()
    path = staging_path(object_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("wb") as out:
            while size < length:
                block = read(min(READ_BYTES, length - size))
                if not block:
                    break
                size += len(block)
                digest.update(block)
                out.write(block)
        if size < length:
            raise UploadRefused(400, "body", f"the body ended after {size} of the {length} bytes announced")
        session = random.choice(sessions)
        with transaction.atomic():
            obj = StoredObject.objects.create(
                id=object_id,
                user=user,
                name=name,
                size=size,
                sha256=digest.hexdigest(),
                validator_hotkey=session.hotkey,
            )
            request = ObjectStoreRequest(
                object_id=obj.id, size=size, sha256=obj.sha256, path=f"/api/v1/validator/objects/{obj.id}/staged/"
            )
            send_to_validator_on_commit(channel_name=session.channel_name, message=request)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return obj


def _health_fields(health: ObjectHealth) -> dict[str, object]:
    return {
        "shares": health.shares,
        "needed": health.needed,
        "placed": health.placed,
        "verified_at": health.verified_at,
    }


def object_apply_stored(*, validator_hotkey: str, object_id: UUID, health: ObjectHealth) -> None:
    now = timezone.now()
    with transaction.atomic():
        done = StoredObject.objects.filter(
            id=object_id, validator_hotkey=validator_hotkey, status=Status.STAGING
        ).update(status=Status.STORED, stored_at=now, billed_until=now, **_health_fields(health))
        if done:
            notify_object_watchers_on_commit(object_id=object_id)
            transaction.on_commit(lambda: staging_path(object_id).unlink(missing_ok=True))
            return
        gave_up = StoredObject.objects.filter(id=object_id, validator_hotkey=validator_hotkey, status=Status.FAILED)
        if gave_up.exists():  # stored after the user was told it failed: the shares must go
            _send_delete(validator_hotkey=validator_hotkey, object_id=object_id)


def object_apply_health(*, validator_hotkey: str, object_id: UUID, health: ObjectHealth) -> None:
    StoredObject.objects.filter(id=object_id, validator_hotkey=validator_hotkey, status=Status.STORED).update(
        **_health_fields(health)
    )


def object_apply_failed(*, validator_hotkey: str, failed: ObjectFailed) -> None:
    if failed.operation != "store":
        return  # fetch failures end their retrieval (object_retrievals); a failed delete is retried
    with transaction.atomic():
        done = StoredObject.objects.filter(
            id=failed.object_id, validator_hotkey=validator_hotkey, status=Status.STAGING
        ).update(status=Status.FAILED, failure_reason=str(failed.reason), failure_detail=failed.detail[:2000])
        if done:
            notify_object_watchers_on_commit(object_id=failed.object_id)
            transaction.on_commit(lambda: staging_path(failed.object_id).unlink(missing_ok=True))


def object_give_up(*, object_id: UUID) -> bool:
    """The validator did not answer in time: the upload fails (its late answer is undone)."""
    with transaction.atomic():
        done = StoredObject.objects.filter(id=object_id, status=Status.STAGING).update(
            status=Status.FAILED, failure_reason="timeout", failure_detail="the validator did not answer in time"
        )
        transaction.on_commit(lambda: staging_path(object_id).unlink(missing_ok=True))
    return bool(done)


def object_apply_deleted(*, validator_hotkey: str, object_id: UUID) -> None:
    StoredObject.objects.filter(
        id=object_id, validator_hotkey=validator_hotkey, status__in=[Status.DELETING, Status.FAILED]
    ).update(status=Status.DELETED)


def object_delete(*, obj: StoredObject) -> None:
    """The user's delete: billing stops now; the validator is asked to drop the shares (again on
    its next connection if it is offline)."""
    with transaction.atomic():
        done = StoredObject.objects.filter(id=obj.id, status__in=[Status.STORED, Status.STAGING]).update(
            status=Status.DELETING, deleted_at=timezone.now()
        )
        if done:
            _send_delete(validator_hotkey=obj.validator_hotkey, object_id=obj.id)
            transaction.on_commit(lambda: staging_path(obj.id).unlink(missing_ok=True))


def _send_delete(*, validator_hotkey: str, object_id: UUID) -> None:
    for session in validator_sessions_live(hotkey=validator_hotkey)[:1]:
        send_to_validator_on_commit(channel_name=session.channel_name, message=ObjectDeleteRequest(object_id=object_id))


def objects_resend_deletes(*, hotkey: str, channel_name: str) -> int:
    """After a validator reconnects: the deletes it may have missed (it treats them idempotently)."""
    ids = list(
        StoredObject.objects.filter(validator_hotkey=hotkey, status=Status.DELETING).values_list("id", flat=True)[:1000]
    )
    with transaction.atomic():
        for object_id in ids:
            send_to_validator_on_commit(channel_name=channel_name, message=ObjectDeleteRequest(object_id=object_id))
    return len(ids)
