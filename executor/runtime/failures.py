"""Typed failures. Stages raise `JobFailure`; the driver turns it into exactly one `JobFailed`.

The reason (`protocol.messages.common.FailureReason`) decides whose fault it is."""

import re

from protocol.messages.common import Failure, FailureReason, JobResult

# What runc says when the image cannot execute the command (Docker's 400 on start), e.g.
# `... unable to start container process: exec: "python": executable file not found in $PATH: unknown`.
_EXEC_REFUSED = re.compile(
    r'exec: ("[^"\n]{0,200}"): ((?:[^:\n]{0,300}: )?'
    r"(?:executable file not found in \$PATH|no such file or directory|permission denied|exec format error))"
)


def command_refusal(engine_error: str) -> str | None:
    """The runtime's reason when `engine_error` says the job's command cannot be executed, else None
    (any other start failure stays the engine's)."""
    match = _EXEC_REFUSED.search(engine_error)
    return None if match is None else f"{match.group(1)}: {match.group(2)}"


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


class CommandNotRunnable(JobFailure):
    """The container could not start because the image cannot execute the job's command: the
    user's job, not the miner's engine (so it is never retried for free on other miners)."""

    def __init__(self, detail: str) -> None:
        super().__init__(FailureReason.COMMAND_NOT_RUNNABLE, detail)


class OutputTooLarge(JobFailure):
    def __init__(self, detail: str) -> None:
        super().__init__(FailureReason.OUTPUT_TOO_LARGE, detail)


class CancelRequested(Exception):
    """The miner set the cancel event before the container started."""
