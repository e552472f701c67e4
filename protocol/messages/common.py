"""Messages and value types every direction shares."""

import enum
from typing import Annotated, Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, field_validator, model_serializer, model_validator

from protocol.ssh_keys import ssh_public_key_normalised
from protocol.types import NulFreeText, SS58Address, StrictModel

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
    # Over the frame or connection rate: not processed; the detail ends with "retry_after_s=<s>".
    RATE_LIMITED = "rate_limited"
    # Banned for repeated bad frames: the connection closes; the detail ends with "retry_after_s=<s>".
    BANNED = "banned"
    # The peer runs a version below the subnet's minimum (protocol/version.py): the connection
    # closes; upgrading is the fix, retrying is not.
    VERSION_TOO_OLD = "version_too_old"


class ErrorMessage(Message):
    type: Literal["error"] = "error"
    code: ErrorCode
    detail: str = Field(max_length=4000)


class Handshake(Message):
    """First frame both ways. `peer_nonce` binds a reply to the dialer's hello (no replay).

    `tls_fingerprint` (optional, over TLS only) binds the session to its TLS channel: the SHA-256
    of the server's certificate as the signer knows it, its own in a server's reply, the one it was
    shown in a dialer's hello (protocol/tls.py). `node_version` (optional): the signer's software
    version (protocol/version.py), checked against the subnet's minimum; a server answers with it
    only to a hello that carried it, so a dialer from before the field can still read the reply.
    Both are left out of the frame and the signed bytes when absent, so such a handshake is, byte
    for byte, what it was before the fields existed."""

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
    tls_fingerprint: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    node_version: str | None = Field(default=None, max_length=32, pattern=r"^[0-9A-Za-z.!+-]+$")

    @model_serializer(mode="wrap")
    def _without_absent_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in ("tls_fingerprint", "node_version"):
            if data.get(name) is None:
                data.pop(name, None)
        return data

    def signed_fields(self) -> dict[str, object]:
        return self.model_dump(exclude={"signature"})


class ZipInput(Message):
    kind: Literal["zip_b64"] = "zip_b64"
    zip_b64: str


class UrlInput(Message):
    kind: Literal["url"] = "url"
    url: NulFreeText = Field(max_length=2000, pattern=r"^https?://")


JobInput = Annotated[ZipInput | UrlInput, Field(discriminator="kind")]


MAX_JOB_SECONDS = 86400
MAX_RENTAL_SECONDS = 60 * 86400  # DESIGN.md: 60 days at most (the REST API also asks for 60 s at least)


class RentalSpec(Message):
    """A rental (docs/rentals.md): the job is a machine reached over SSH with this key, for the
    job's `timeout_s`, instead of a command run to its end."""

    ssh_public_key: str = Field(min_length=16, max_length=8192)

    @field_validator("ssh_public_key")
    @classmethod
    def _a_valid_key(cls, value: str) -> str:
        return ssh_public_key_normalised(value)


class JobSpec(Message):
    """What a user asked to run; travels facilitator → validator → miner → executor unchanged.
    `rental` (left out of the frame when absent, so a job's frame is what it always was) makes
    it a rental: up to 60 days instead of one."""

    image: NulFreeText = Field(min_length=1, max_length=255)
    args: list[NulFreeText] = Field(default_factory=list, max_length=256)
    env: dict[NulFreeText, NulFreeText] = Field(default_factory=dict)
    executor_class: NulFreeText = Field(min_length=1, max_length=64)
    timeout_s: int = Field(ge=1, le=MAX_RENTAL_SECONDS)
    input: JobInput | None = None
    rental: RentalSpec | None = None

    @model_validator(mode="after")
    def _duration_fits_the_kind(self) -> "JobSpec":
        if self.rental is None and self.timeout_s > MAX_JOB_SECONDS:
            raise ValueError(f"a job's timeout_s is at most {MAX_JOB_SECONDS}")
        if self.rental is not None and (self.input is not None or self.env):
            raise ValueError("a rental takes no input and no env")
        return self

    @model_serializer(mode="wrap")
    def _without_absent_rental(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("rental") is None:
            data.pop("rental", None)
        return data


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
    # A URL input that could not be fetched, in a fixed set that never relays what the server said
    # (executor/runtime/input_fetch.py).
    INPUT_BAD_URL = "input_bad_url"
    INPUT_REFUSED_ADDRESS = "input_refused_address"
    INPUT_TOO_LARGE = "input_too_large"
    INPUT_TIMEOUT = "input_timeout"
    INPUT_UNREACHABLE = "input_unreachable"
    OUTPUT_TOO_LARGE = "output_too_large"
    DOCKER_ERROR = "docker_error"
    STAGE_TIMEOUT = "stage_timeout"
    EXECUTOR_CRASHED = "executor_crashed"
    CONTAINER_KILLED = "container_killed"  # killed through the engine by someone other than the job
    NO_CAPACITY = "no_capacity"  # no miner accepted the job (validator)
    VALIDATOR_LOST = "validator_lost"  # the validator holding the job went away (facilitator)
    RESERVATION_EXPIRED = "reservation_expired"  # reserved, but the job never followed (miner)
    # A rental's machine stopped answering SSH (the validator reads its banner) or its container died.
    RENTAL_UNREACHABLE = "rental_unreachable"
    # Stopped by the miner to give an executor back to a validator within its share (docs/market.md).
    PREEMPTED = "preempted"

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
        FailureReason.INPUT_BAD_URL,
        FailureReason.INPUT_REFUSED_ADDRESS,
        FailureReason.INPUT_TOO_LARGE,
        FailureReason.INPUT_TIMEOUT,
        FailureReason.INPUT_UNREACHABLE,
        FailureReason.OUTPUT_TOO_LARGE,
    }
)


def failure_kind(reason: str) -> FailureKind:
    """Whose fault a reported failure is, from its reason alone: a miner's claimed `kind` is not
    trusted (calling its own engine's failure the job's would bill the user for it). A reason we do
    not know cannot be blamed on the job."""
    try:
        return FailureReason(reason).kind
    except ValueError:
        return FailureKind.INFRASTRUCTURE


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
    # How many bytes the job wrote to each stream, and whether the text above holds only their head
    # (it then ends with the marker of `protocol/reports.py`); None from a peer that did not count.
    stdout_bytes: int | None = Field(default=None, ge=0)
    stderr_bytes: int | None = Field(default=None, ge=0)
    stdout_truncated: bool = False
    stderr_truncated: bool = False
