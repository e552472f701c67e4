"""Facilitator ↔ validator, over `/v1/facilitator/` (the validator dials out)."""

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, SerializerFunctionWrapHandler, field_validator, model_serializer

from protocol.catalogue import SignedCatalogue
from protocol.messages.common import ErrorMessage, Failure, JobResult, JobSpec, Message
from protocol.messages.jobs import JobStatus, SshEndpoint
from protocol.messages.storage import (
    ObjectDeleted,
    ObjectDeleteRequest,
    ObjectFailed,
    ObjectFetched,
    ObjectFetchRequest,
    ObjectHealthUpdate,
    ObjectStored,
    ObjectStoreRequest,
)
from protocol.types import NulFreeText, StrictModel


class JobRequest(Message):
    type: Literal["job.request"] = "job.request"
    job_uuid: UUID
    spec: JobSpec


class JobCancelRequest(Message):
    type: Literal["job.cancel"] = "job.cancel"
    job_uuid: UUID


class JobStatusUpdate(Message):
    """`ssh`: a rental's login, with the RUNNING update (left out of the frame otherwise)."""

    type: Literal["job.status"] = "job.status"
    job_uuid: UUID
    status: JobStatus
    detail: str = Field(default="", max_length=4000)
    miner_hotkey: str | None = Field(default=None, max_length=64)
    result: JobResult | None = None
    failure: Failure | None = None
    ssh: SshEndpoint | None = None

    @model_serializer(mode="wrap")
    def _without_absent_ssh(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("ssh") is None:
            data.pop("ssh", None)
        return data


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


MAX_CENSUS_CLASSES = 64
MAX_CENSUS_COUNT = 1_000_000  # executors or miners in one class: far above any subnet's


class ClassCensus(StrictModel):
    """One executor class as one validator sees it: `claimed` executors in the active miners'
    latest manifests, `verified` those that passed every check of their latest finished run,
    `miners` the active miners claiming or verified in the class. `willing_miners` and
    `willing_executors` count those (and their verified executors) whose price floor the class's
    current price meets (docs/market.md); left out by validators from before price floors."""

    executor_class: NulFreeText = Field(min_length=1, max_length=64)
    miners: int = Field(ge=0, le=MAX_CENSUS_COUNT)
    claimed: int = Field(ge=0, le=MAX_CENSUS_COUNT)
    verified: int = Field(ge=0, le=MAX_CENSUS_COUNT)
    willing_miners: int | None = Field(default=None, ge=0, le=MAX_CENSUS_COUNT)
    willing_executors: int | None = Field(default=None, ge=0, le=MAX_CENSUS_COUNT)

    @model_serializer(mode="wrap")
    def _without_unknown_willingness(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in ("willing_miners", "willing_executors"):
            if data.get(name) is None:
                data.pop(name, None)
        return data


class ExecutorCensus(Message):
    """Executors per class, claimed vs verified, as this validator last verified them (the
    facilitator holds no manifests or checks, so this is how its overview shows them). Sent after
    the handshake and after each finished benchmark run; `cycle` is the number of the newest
    finished run, `at` when the census was counted. An old facilitator answers UNKNOWN_TYPE, after
    which the validator sends no more on that link."""

    type: Literal["executor.census"] = "executor.census"
    cycle: int = Field(ge=0, le=2**63 - 1)  # a run number: a bigint wherever it is stored
    at: AwareDatetime
    classes: list[ClassCensus] = Field(max_length=MAX_CENSUS_CLASSES)

    @field_validator("classes")
    @classmethod
    def _one_entry_per_class(cls, classes: list[ClassCensus]) -> list[ClassCensus]:
        names = [c.executor_class for c in classes]
        if len(set(names)) != len(names):
            raise ValueError("each executor class may appear once")
        return classes


FacilitatorToValidator = Annotated[
    JobRequest | JobCancelRequest | ObjectStoreRequest | ObjectFetchRequest | ObjectDeleteRequest | ErrorMessage,
    Field(discriminator="type"),
]
ValidatorToFacilitator = Annotated[
    JobStatusUpdate
    | JobIntervalCharge
    | CatalogueOffer
    | ExecutorCensus
    | ObjectStored
    | ObjectFetched
    | ObjectHealthUpdate
    | ObjectDeleted
    | ObjectFailed
    | ErrorMessage,
    Field(discriminator="type"),
]
