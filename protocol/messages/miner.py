"""Validator ↔ miner, over `/v1/miner/`: the validator dials the miner and keeps the link for many
jobs; the miner sends its manifest after the handshake (protocol/messages/manifest.py), and
benchmarks travel on the same link (protocol/messages/benchmarks.py)."""

import enum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from protocol.messages.benchmarks import (
    BenchmarkFailed,
    BenchmarkStart,
    MatmulCommit,
    MatmulOpening,
    OpenRequest,
    PowAnswer,
)
from protocol.messages.common import ErrorMessage, JobSpec, Message
from protocol.messages.jobs import (
    ExecutorReady,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobStarted,
    VolumeReady,
)
from protocol.messages.manifest import ManifestMessage


class DeclineReason(enum.StrEnum):
    BUSY = "busy"
    UNKNOWN_CLASS = "unknown_executor_class"
    BLACKLISTED = "validator_blacklisted"
    IMAGE_NOT_ALLOWED = "image_not_allowed"
    DUPLICATE = "duplicate_job"


class JobReserve(Message):
    """Asks for an executor of a class; carries no payload until the miner accepts."""

    type: Literal["job.reserve"] = "job.reserve"
    job_uuid: UUID
    executor_class: str = Field(max_length=64)
    image: str = Field(max_length=255)
    timeout_s: int = Field(ge=1, le=86400)


class JobRun(Message):
    type: Literal["job.run"] = "job.run"
    job_uuid: UUID
    spec: JobSpec


class JobCancel(Message):
    type: Literal["job.cancel"] = "job.cancel"
    job_uuid: UUID


class JobAccepted(Message):
    type: Literal["job.accepted"] = "job.accepted"
    job_uuid: UUID


class JobDeclined(Message):
    type: Literal["job.declined"] = "job.declined"
    job_uuid: UUID
    reason: DeclineReason
    detail: str = Field(default="", max_length=1000)


ValidatorToMiner = Annotated[
    JobReserve | JobRun | JobCancel | BenchmarkStart | OpenRequest | ErrorMessage, Field(discriminator="type")
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
    | ManifestMessage
    | PowAnswer
    | MatmulCommit
    | MatmulOpening
    | BenchmarkFailed
    | ErrorMessage,
    Field(discriminator="type"),
]
