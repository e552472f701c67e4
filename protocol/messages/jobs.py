"""Job progress messages: the executor emits them, the miner relays them to the validator."""

import enum
from typing import Literal
from uuid import UUID

from protocol.messages.common import Failure, JobResult, Message


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


class JobStarted(Message):
    type: Literal["job.started"] = "job.started"
    job_uuid: UUID


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
