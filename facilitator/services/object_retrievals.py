"""Downloads (docs/storage.md): the facilitator asks the object's validator to rebuild it and PUT
the plaintext here; the bytes are checked against the object's size and sha256 before the user
gets any of them, and deleted once sent."""

import hashlib
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.db import transaction

from facilitator.models import ObjectRetrieval, StoredObject
from facilitator.notify import notify_object_watchers_on_commit, send_to_validator_on_commit
from facilitator.selectors import validator_sessions_live
from facilitator.services.objects import UploadRefused
from protocol.messages.storage import ObjectFailed, ObjectFetchRequest

READ_BYTES = 1024 * 1024
Status = ObjectRetrieval.Status


class DeliveryRefused(Exception):
    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.status = status
        self.reason = reason
        self.detail = detail


def retrieval_path(request_id: UUID) -> Path:
    return Path(settings.STORAGE_STAGING_DIR) / f"{request_id}.download"


def retrieval_start(*, obj: StoredObject) -> ObjectRetrieval:
    sessions = validator_sessions_live(hotkey=obj.validator_hotkey)
    if not sessions:
        raise UploadRefused(503, "detail", "the validator holding this object is offline; try again shortly")
    with transaction.atomic():
        retrieval = ObjectRetrieval.objects.create(object=obj)
        path = f"/api/v1/validator/objects/{obj.id}/retrievals/{retrieval.request_id}/"
        message = ObjectFetchRequest(object_id=obj.id, request_id=retrieval.request_id, path=path)
        send_to_validator_on_commit(channel_name=sessions[0].channel_name, message=message)
    return retrieval


def retrieval_receive(
    *, object_id: UUID, request_id: UUID, signer: str, length: int, read: Callable[[int], bytes]
) -> None:
    """The validator's PUT: at most the object's size + 1 bytes are read, whatever it claims."""
    retrieval = (
        ObjectRetrieval.objects.select_related("object").filter(request_id=request_id, object_id=object_id).first()
    )
    if retrieval is None:
        raise DeliveryRefused(404, "unknown_request", "no such retrieval")
    obj = retrieval.object
    if signer != obj.validator_hotkey:
        raise DeliveryRefused(403, "not_the_objects_validator", "only the validator holding the object delivers it")
    if retrieval.status != Status.PENDING:
        raise DeliveryRefused(409, "not_pending", f"this retrieval is {retrieval.status}")
    if length != obj.size:
        raise DeliveryRefused(400, "digest_mismatch", f"{length} bytes announced; the object has {obj.size}")
    path = retrieval_path(request_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with path.open("wb") as out:
        while size <= obj.size:
            block = read(min(READ_BYTES, obj.size + 1 - size))
            if not block:
                break
            size += len(block)
            digest.update(block)
            out.write(block)
    if size != obj.size or digest.hexdigest() != obj.sha256:
        path.unlink(missing_ok=True)
        raise DeliveryRefused(400, "digest_mismatch", "the bytes are not the object's (size or sha256)")
    with transaction.atomic():
        done = ObjectRetrieval.objects.filter(request_id=request_id, status=Status.PENDING).update(
            status=Status.DELIVERED
        )
        if not done:
            transaction.on_commit(lambda: path.unlink(missing_ok=True))
            raise DeliveryRefused(409, "not_pending", "this retrieval ended meanwhile")
        notify_object_watchers_on_commit(object_id=object_id)


def retrieval_apply_failed(*, validator_hotkey: str, failed: ObjectFailed) -> None:
    if failed.operation != "fetch" or failed.request_id is None:
        return
    with transaction.atomic():
        done = ObjectRetrieval.objects.filter(
            request_id=failed.request_id,
            object_id=failed.object_id,
            object__validator_hotkey=validator_hotkey,
            status=Status.PENDING,
        ).update(status=Status.FAILED, reason=str(failed.reason))
        if done:
            notify_object_watchers_on_commit(object_id=failed.object_id)


def retrieval_end(*, request_id: UUID) -> None:
    """The user has it (or gave up): its file goes, and a late delivery is refused."""
    ObjectRetrieval.objects.filter(request_id=request_id, status=Status.PENDING).update(
        status=Status.FAILED, reason="timeout"
    )
    retrieval_path(request_id).unlink(missing_ok=True)
