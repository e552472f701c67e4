"""Messages and value types every direction shares."""

import enum
from typing import Annotated, Literal

from pydantic import Field

from protocol.types import SS58Address, StrictModel

MAX_LOG_CHARS = 2 * 1024 * 1024


class Message(StrictModel):
    """Base of every wire message: unknown fields are an error, not silently dropped."""


class ErrorCode(enum.StrEnum):
    MALFORMED = "malformed"
    UNKNOWN_TYPE = "unknown_type"
    UNAUTHENTICATED = "unauthenticated"
    UNAUTHORIZED = "unauthorized"
    UNEXPECTED = "unexpected"
    TOO_LARGE = "too_large"
    REFUSED = "refused"  # well-formed, but the receiver will not act on it; the detail says why
    INTERNAL = "internal"


class ErrorMessage(Message):
    type: Literal["error"] = "error"
    code: ErrorCode
    detail: str = Field(max_length=4000)


class Handshake(Message):
    """First frame both ways. `peer_nonce` binds a reply to the dialer's hello (no replay)."""

    type: Literal["handshake"] = "handshake"
    version: Literal[1] = 1
    path: str = Field(max_length=200)
    hotkey: SS58Address
    crypto: Literal["sr25519", "ed25519"] = "sr25519"
    peer_hotkey: SS58Address
    timestamp: float
    nonce: str = Field(min_length=32, max_length=64)
    peer_nonce: str | None = Field(default=None, max_length=64)
    signature: str = Field(max_length=200)

    def signed_fields(self) -> dict[str, object]:
        return self.model_dump(exclude={"signature"})


class ZipInput(Message):
    kind: Literal["zip_b64"] = "zip_b64"
    zip_b64: str


class UrlInput(Message):
    kind: Literal["url"] = "url"
    url: str = Field(max_length=2000, pattern=r"^https?://")


JobInput = Annotated[ZipInput | UrlInput, Field(discriminator="kind")]


class JobSpec(Message):
    """What a user asked to run; travels facilitator → validator → miner → executor unchanged."""

    image: str = Field(min_length=1, max_length=255)
    args: list[str] = Field(default_factory=list, max_length=256)
    env: dict[str, str] = Field(default_factory=dict)
    executor_class: str = Field(min_length=1, max_length=64)
    timeout_s: int = Field(ge=1, le=86400)
    input: JobInput | None = None


class FailureKind(enum.StrEnum):
    JOB = "job"
    INFRASTRUCTURE = "infrastructure"


class FailureReason(enum.StrEnum):
    """Why a job failed. The reason decides whose fault it was: the job's (billed, not retried) or
    the infrastructure's (retried elsewhere, never billed)."""

    NONZERO_EXIT = "nonzero_exit"
    TIMEOUT = "timeout"
    OUT_OF_MEMORY = "out_of_memory"
    IMAGE_MISSING = "image_missing"
    COMMAND_NOT_RUNNABLE = "command_not_runnable"  # the image cannot execute the job's command
    INPUT_INVALID = "input_invalid"
    INPUT_UNAVAILABLE = "input_unavailable"
    OUTPUT_TOO_LARGE = "output_too_large"
    DOCKER_ERROR = "docker_error"
    STAGE_TIMEOUT = "stage_timeout"
    EXECUTOR_CRASHED = "executor_crashed"
    CONTAINER_KILLED = "container_killed"  # killed through the engine by someone other than the job
    NO_CAPACITY = "no_capacity"  # no miner accepted the job (validator)
    VALIDATOR_LOST = "validator_lost"  # the validator holding the job went away (facilitator)
    RESERVATION_EXPIRED = "reservation_expired"  # reserved, but the job never followed (miner)

    @property
    def kind(self) -> FailureKind:
        return FailureKind.JOB if self in _JOB_REASONS else FailureKind.INFRASTRUCTURE


_JOB_REASONS = frozenset(
    {
        FailureReason.NONZERO_EXIT,
        FailureReason.TIMEOUT,
        FailureReason.OUT_OF_MEMORY,
        FailureReason.IMAGE_MISSING,
        FailureReason.COMMAND_NOT_RUNNABLE,
        FailureReason.INPUT_INVALID,
        FailureReason.INPUT_UNAVAILABLE,
        FailureReason.OUTPUT_TOO_LARGE,
    }
)


class Failure(Message):
    kind: FailureKind
    reason: str = Field(max_length=64)
    detail: str = Field(default="", max_length=4000)


class JobResult(Message):
    exit_code: int | None
    stdout: str = Field(default="", max_length=MAX_LOG_CHARS)
    stderr: str = Field(default="", max_length=MAX_LOG_CHARS)
    output_zip_b64: str = ""
    executor_seconds: float = Field(ge=0)
