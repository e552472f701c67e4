"""Side effects toward validators, always after the transaction commits (never for rolled-back work)."""

from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from pydantic import BaseModel

FORWARD_EVENT = "validator.forward"
JOB_EVENT = "job.changed"


def send_to_validator_on_commit(*, channel_name: str, message: BaseModel) -> None:
    payload = message.model_dump_json()

    def _send() -> None:
        layer = get_channel_layer()
        assert layer is not None
        async_to_sync(layer.send)(channel_name, {"type": FORWARD_EVENT, "payload": payload})

    transaction.on_commit(_send)


def job_group(job_uuid: UUID) -> str:
    return f"job-{job_uuid}"


def notify_job_watchers_on_commit(*, job_uuid: UUID, status: str) -> None:
    """Wakes `GET /api/v1/jobs/<uuid>/wait/` callers; nobody listening costs one Redis call."""

    def _send() -> None:
        layer = get_channel_layer()
        assert layer is not None
        async_to_sync(layer.group_send)(job_group(job_uuid), {"type": JOB_EVENT, "status": str(status)})

    transaction.on_commit(_send)


OBJECT_EVENT = "object.changed"


def object_group(object_id: UUID) -> str:
    return f"object-{object_id}"


def notify_object_watchers_on_commit(*, object_id: UUID) -> None:
    """Wakes the upload or download waiting on this object (facilitator/apis/object_io.py)."""

    def _send() -> None:
        layer = get_channel_layer()
        assert layer is not None
        async_to_sync(layer.group_send)(object_group(object_id), {"type": OBJECT_EVENT})

    transaction.on_commit(_send)
