"""Job progress messages: the executor emits them, the miner relays them to the validator."""

import enum
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from protocol.messages.common import Failure, JobResult, Message
from protocol.types import NulFreeText


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    DISPATCHED = "dispatched"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.TIMEOUT, JobStatus.CANCELLED, JobStatus.REJECTED}
)


class ExecutorReady(Message):
    type: Literal["job.executor_ready"] = "job.executor_ready"
    job_uuid: UUID


class VolumeReady(Message):
    type: Literal["job.volume_ready"] = "job.volume_ready"
    job_uuid: UUID


class SshEndpoint(Message):
    """Where a rental's user logs in: `ssh -p PORT USER@HOST`."""

    host: NulFreeText = Field(min_length=1, max_length=255)
    port: int = Field(ge=1, le=65535)
    user: NulFreeText = Field(min_length=1, max_length=32)


class JobStarted(Message):
    """`ssh` (a rental's, left out of the frame otherwise): its machine answers there."""

    type: Literal["job.started"] = "job.started"
    job_uuid: UUID
    ssh: SshEndpoint | None = None

    @model_serializer(mode="wrap")
    def _without_absent_ssh(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("ssh") is None:
            data.pop("ssh", None)
        return data


class JobFinished(Message):
    """The container ran to the end with exit code 0."""

    type: Literal["job.finished"] = "job.finished"
    job_uuid: UUID
    result: JobResult


class JobFailed(Message):
    """`failure.kind` says whose fault: the job's (billed) or the infrastructure's (retried)."""

    type: Literal["job.failed"] = "job.failed"
    job_uuid: UUID
    failure: Failure
    result: JobResult | None = None


class JobCancelled(Message):
    type: Literal["job.cancelled"] = "job.cancelled"
    job_uuid: UUID
    result: JobResult | None = None


JobProgress = ExecutorReady | VolumeReady | JobStarted | JobFinished | JobFailed | JobCancelled
