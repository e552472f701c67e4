"""Validator ↔ miner, over `/v1/miner/`: the validator dials the miner and keeps the link for many
jobs; the miner sends its manifest after the handshake (protocol/messages/manifest.py), and
benchmarks travel on the same link (protocol/messages/benchmarks.py)."""

import enum
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import Field, model_validator

from protocol.messages.benchmarks import (
    BenchmarkFailed,
    BenchmarkStart,
    MatmulCommit,
    MatmulOpening,
    OpenRequest,
    PowAnswer,
)
from protocol.messages.common import MAX_RENTAL_SECONDS, ErrorMessage, JobSpec, Message
from protocol.messages.jobs import (
    ExecutorReady,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobStarted,
    VolumeReady,
)
from protocol.messages.manifest import MAX_CLASSES_PER_HOST, MAX_EXECUTORS_PER_CLASS, MAX_HOSTS, ManifestMessage
from protocol.receipts import SIGNATURE, IntervalPayload, JobAcceptedPayload, JobFinishedPayload, JobStartedPayload
from protocol.types import NulFreeText, StrictModel

# How long a miner holds an executor for a reservation the validator never follows with JobRun;
# the validator signs it into the `job_started` receipt (`ttl_s`), so both sides use this one figure.
RESERVATION_TTL_S = 30.0
MAX_STANDING_CLASSES = MAX_CLASSES_PER_HOST * MAX_HOSTS
MAX_STANDING_EXECUTORS = MAX_EXECUTORS_PER_CLASS * MAX_HOSTS


class DeclineReason(enum.StrEnum):
    BUSY = "busy"
    UNKNOWN_CLASS = "unknown_executor_class"
    BLACKLISTED = "validator_blacklisted"
    IMAGE_NOT_ALLOWED = "image_not_allowed"
    DUPLICATE = "duplicate_job"
    BAD_RECEIPT = "bad_receipt"  # the signed reservation is not this job's, this miner's or the sender's
    # Never penalised (docs/market.md): the class's price is below the miner's floor for it.
    UNPROFITABLE = "unprofitable"
    # Never penalised: the sender holds its stake-proportional share and the free executors are
    # kept for validators that asked recently and hold less than theirs.
    OVER_SHARE = "over_share"


class SignedStarted(Message):
    """The validator's `job_started` receipt: the reservation, signed by the validator."""

    payload: JobStartedPayload
    signature: SIGNATURE


class SignedAccepted(Message):
    """The miner's `job_accepted` receipt, signed by the miner."""

    payload: JobAcceptedPayload
    signature: SIGNATURE


class JobReserve(Message):
    """Asks for an executor of a class. `started` is the signed reservation: the miner checks it
    names this job, class, itself and the sender. `spec`, when given, is the payload pipelined
    with the reservation (a miner that accepts starts the job at once and no JobRun follows); the
    validator sends it only when there is nothing in it a declining miner should not see or carry
    (no env, no input). Without it the payload follows the acceptance as JobRun."""

    type: Literal["job.reserve"] = "job.reserve"
    job_uuid: UUID
    executor_class: NulFreeText = Field(max_length=64)
    image: NulFreeText = Field(max_length=255)
    timeout_s: int = Field(ge=1, le=MAX_RENTAL_SECONDS)  # a job's 86400 s, or a rental's 60 days
    started: SignedStarted
    spec: JobSpec | None = None

    @model_validator(mode="after")
    def _spec_is_the_reservations(self) -> Self:
        if self.spec is None:
            return self
        reserved = (self.executor_class, self.image, self.timeout_s)
        if (self.spec.executor_class, self.spec.image, self.spec.timeout_s) != reserved:
            raise ValueError("the pipelined spec differs from the reservation (class, image or timeout)")
        return self


class JobRun(Message):
    type: Literal["job.run"] = "job.run"
    job_uuid: UUID
    spec: JobSpec


class JobCancel(Message):
    type: Literal["job.cancel"] = "job.cancel"
    job_uuid: UUID


class JobAccepted(Message):
    """Countersigns the reservation's `job_started` receipt and carries the miner's own signed
    `job_accepted` receipt, which the validator countersigns (ReceiptCountersign)."""

    type: Literal["job.accepted"] = "job.accepted"
    job_uuid: UUID
    started_countersignature: SIGNATURE
    accepted: SignedAccepted


class ReceiptCountersign(Message):
    """Validator → miner: its signature on the miner's `job_accepted` receipt."""

    type: Literal["receipt.countersign"] = "receipt.countersign"
    job_uuid: UUID
    signature: SIGNATURE


class ReceiptOffer(Message):
    """Validator → miner: an `interval` or `job_finished` receipt signed by the validator; the miner
    stores it and answers ReceiptCountersigned (or an ErrorMessage REFUSED saying why not)."""

    type: Literal["receipt.offer"] = "receipt.offer"
    payload: IntervalPayload | JobFinishedPayload = Field(discriminator="kind")
    signature: SIGNATURE


class ReceiptCountersigned(Message):
    """Miner → validator: its countersignature on an offered receipt."""

    type: Literal["receipt.countersigned"] = "receipt.countersigned"
    job_uuid: UUID
    kind: Literal["interval", "job_finished"]
    index: int = Field(ge=0, le=100_000)
    signature: SIGNATURE


class JobDeclined(Message):
    type: Literal["job.declined"] = "job.declined"
    job_uuid: UUID
    reason: DeclineReason
    detail: str = Field(default="", max_length=1000)


class ClassStanding(StrictModel):
    """One class of the miner as the receiving validator stands in it: `entitled` executors by its
    stake, `in_use` held by its jobs now, `total` executors of the class on the miner."""

    executor_class: NulFreeText = Field(min_length=1, max_length=64)
    entitled: int = Field(ge=0, le=MAX_STANDING_EXECUTORS)
    in_use: int = Field(ge=0, le=MAX_STANDING_EXECUTORS)
    total: int = Field(ge=0, le=MAX_STANDING_EXECUTORS)


class ShareSubscribe(Message):
    """Validator → miner, once per link: send me my ShareStanding now and whenever it changes.
    Asked for, not pushed, so a validator from before it never gets a frame it cannot read (an old
    miner answers UNKNOWN_TYPE, which the validator only logs)."""

    type: Literal["share.subscribe"] = "share.subscribe"


class ShareStanding(Message):
    """Miner → validator: where the validator stands in the miner's stake-proportional split, sent
    on ShareSubscribe and then whenever it changed (a reservation, a job's end), at most every few
    seconds."""

    type: Literal["share.standing"] = "share.standing"
    classes: list[ClassStanding] = Field(max_length=MAX_STANDING_CLASSES)


ValidatorToMiner = Annotated[
    JobReserve
    | JobRun
    | JobCancel
    | ReceiptCountersign
    | ReceiptOffer
    | ShareSubscribe
    | BenchmarkStart
    | OpenRequest
    | ErrorMessage,
    Field(discriminator="type"),
]
MinerToValidator = Annotated[
    JobAccepted
    | JobDeclined
    | ExecutorReady
    | VolumeReady
    | JobStarted
    | JobFinished
    | JobFailed
    | JobCancelled
    | ReceiptCountersigned
    | ManifestMessage
    | ShareStanding
    | PowAnswer
    | MatmulCommit
    | MatmulOpening
    | BenchmarkFailed
    | ErrorMessage,
    Field(discriminator="type"),
]
