"""Facilitator ↔ validator, over `/v1/facilitator/` (the validator dials out)."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from protocol.messages.common import ErrorMessage, Failure, JobResult, JobSpec, Message
from protocol.messages.jobs import JobStatus


class JobRequest(Message):
    type: Literal["job.request"] = "job.request"
    job_uuid: UUID
    spec: JobSpec


class JobCancelRequest(Message):
    type: Literal["job.cancel"] = "job.cancel"
    job_uuid: UUID


class JobStatusUpdate(Message):
    type: Literal["job.status"] = "job.status"
    job_uuid: UUID
    status: JobStatus
    detail: str = Field(default="", max_length=4000)
    miner_hotkey: str | None = Field(default=None, max_length=64)
    result: JobResult | None = None
    failure: Failure | None = None


FacilitatorToValidator = Annotated[JobRequest | JobCancelRequest | ErrorMessage, Field(discriminator="type")]
ValidatorToFacilitator = Annotated[JobStatusUpdate | ErrorMessage, Field(discriminator="type")]
