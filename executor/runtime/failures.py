"""Typed failures. Stages raise `JobFailure`; the driver turns it into exactly one `JobFailed`.

The reason decides whose fault it is: the job's (billed, not retried) or the infrastructure's
(retried elsewhere, never billed)."""

import enum

from protocol.messages.common import Failure, FailureKind, JobResult


class Reason(enum.StrEnum):
    NONZERO_EXIT = "nonzero_exit"
    TIMEOUT = "timeout"
    OUT_OF_MEMORY = "out_of_memory"
    IMAGE_MISSING = "image_missing"
    INPUT_INVALID = "input_invalid"
    INPUT_UNAVAILABLE = "input_unavailable"
    OUTPUT_TOO_LARGE = "output_too_large"
    DOCKER_ERROR = "docker_error"
    STAGE_TIMEOUT = "stage_timeout"
    EXECUTOR_CRASHED = "executor_crashed"

    @property
    def kind(self) -> FailureKind:
        return FailureKind.JOB if self in _JOB_REASONS else FailureKind.INFRASTRUCTURE


_JOB_REASONS = frozenset(
    {
        Reason.NONZERO_EXIT,
        Reason.TIMEOUT,
        Reason.OUT_OF_MEMORY,
        Reason.IMAGE_MISSING,
        Reason.INPUT_INVALID,
        Reason.INPUT_UNAVAILABLE,
        Reason.OUTPUT_TOO_LARGE,
    }
)


class JobFailure(Exception):
    def __init__(self, reason: Reason, detail: str, *, result: JobResult | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.result = result

    def failure(self) -> Failure:
        return Failure(kind=self.reason.kind, reason=self.reason, detail=self.detail[:4000])


class InputInvalid(JobFailure):
    def __init__(self, detail: str) -> None:
        super().__init__(Reason.INPUT_INVALID, detail)


class OutputTooLarge(JobFailure):
    def __init__(self, detail: str) -> None:
        super().__init__(Reason.OUTPUT_TOO_LARGE, detail)


class CancelRequested(Exception):
    """The miner set the cancel event before the container started."""
