"""Facilitator ↔ validator, over `/v1/facilitator/` (the validator dials out)."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from protocol.catalogue import SignedCatalogue
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


class JobIntervalCharge(Message):
    """A running job's `interval` receipt, for billing: the user is charged `seconds` × price for
    interval `index` of attempt `attempt` (capped by the hold). An attempt that ends in an
    infrastructure failure is refunded; the final status settles the rest, so a job's charges add
    up to its final cost exactly (facilitator/services/credits.py)."""

    type: Literal["job.interval"] = "job.interval"
    job_uuid: UUID
    attempt: int = Field(ge=1, le=1000)
    index: int = Field(ge=1, le=100_000)
    seconds: float = Field(ge=0, le=86400)
    miner_hotkey: str = Field(max_length=64)


class CatalogueOffer(Message):
    """The subnet's signed catalogue as the validator last applied it (the facilitator runs no DHT
    process, so this is how its class table follows the catalogue). Sent after the handshake and
    whenever the validator's applied version changes; the facilitator verifies it itself."""

    type: Literal["catalogue.offer"] = "catalogue.offer"
    envelope: SignedCatalogue


FacilitatorToValidator = Annotated[JobRequest | JobCancelRequest | ErrorMessage, Field(discriminator="type")]
ValidatorToFacilitator = Annotated[
    JobStatusUpdate | JobIntervalCharge | CatalogueOffer | ErrorMessage, Field(discriminator="type")
]
