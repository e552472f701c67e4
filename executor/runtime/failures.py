"""Typed failures. Stages raise `JobFailure`; the driver turns it into exactly one `JobFailed`.

The reason (`protocol.messages.common.FailureReason`) decides whose fault it is."""

from protocol.messages.common import Failure, FailureReason, JobResult


class JobFailure(Exception):
    def __init__(self, reason: FailureReason, detail: str, *, result: JobResult | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.result = result

    def failure(self) -> Failure:
        return Failure(kind=self.reason.kind, reason=self.reason, detail=self.detail[:4000])


class InputInvalid(JobFailure):
    def __init__(self, detail: str) -> None:
        super().__init__(FailureReason.INPUT_INVALID, detail)


class OutputTooLarge(JobFailure):
    def __init__(self, detail: str) -> None:
        super().__init__(FailureReason.OUTPUT_TOO_LARGE, detail)


class CancelRequested(Exception):
    """The miner set the cancel event before the container started."""
