"""Which engine errors are the job's: only runc refusing to execute the job's command."""

import pytest

from executor.runtime.failures import command_refusal
from protocol.messages.common import FailureKind, FailureReason

RUNC = "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: "


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (RUNC + 'exec: "python": executable file not found in $PATH: unknown', '"python": executable file not found'),
        (RUNC + 'exec: "/nope": stat /nope: no such file or directory: unknown', "stat /nope: no such file"),
        (RUNC + 'exec: "/etc/passwd": permission denied: unknown', '"/etc/passwd": permission denied'),
        (RUNC + 'exec: "/bin/arm-only": exec format error: unknown', "exec format error"),
    ],
)
def test_runc_refusing_the_command_is_recognised(error: str, reason: str) -> None:
    refusal = command_refusal(error)
    assert refusal is not None
    assert reason in refusal


@pytest.mark.parametrize(
    "error",
    [
        "driver failed programming external connectivity on endpoint",
        "error while creating mount source path '/x': mkdir /x: no such file or directory",
        RUNC + "cgroup: permission denied",  # the engine's own trouble, not the command
        "",
    ],
)
def test_every_other_start_failure_stays_the_engines(error: str) -> None:
    assert command_refusal(error) is None


def test_the_reason_is_the_jobs_fault() -> None:
    assert FailureReason.COMMAND_NOT_RUNNABLE.kind == FailureKind.JOB
