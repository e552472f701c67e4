import base64
import uuid
from typing import Any

import pytest

from facilitator.models import CreditTransaction, Job, JobOutput
from facilitator.services.status import StatusUpdateRefused, job_apply_status_update
from protocol.messages.facilitator import JobStatusUpdate
from protocol.messages.jobs import JobStatus
from tests.facilitator.factories import facilitator_job
from tests.factories import zip_bytes

pytestmark = pytest.mark.django_db
VALIDATOR = "5Validator"


@pytest.fixture
def job(funded_user):
    return facilitator_job(user=funded_user, validator_hotkey=VALIDATOR)


def _update(job, status, validator=VALIDATOR, **fields) -> bool:
    update = JobStatusUpdate.model_validate({"job_uuid": job.uuid, "status": status, **fields})
    return job_apply_status_update(validator_hotkey=validator, update=update)


def _history(job) -> list[tuple[str, str]]:
    return list(job.history.order_by("at", "id").values_list("status", "detail"))


def test_forward_path_is_recorded(job):
    assert _update(job, "running", miner_hotkey="5Miner", detail="container started")
    assert _update(
        job,
        "completed",
        detail="exit 0",
        result={"exit_code": 0, "stdout": "o", "stderr": "e", "executor_seconds": 4.0},
    )
    job.refresh_from_db()
    assert (job.status, job.miner_hotkey, job.exit_code, job.stdout, job.stderr) == ("completed", "5Miner", 0, "o", "e")
    assert job.executor_seconds == 4.0
    assert job.started_at is not None
    assert job.finished_at >= job.started_at
    assert _history(job) == [("pending", "submitted"), ("running", "container started"), ("completed", "exit 0")]


def test_no_going_back_to_pending(job):
    assert _update(job, "running")
    assert not _update(job, "pending")
    job.refresh_from_db()
    assert job.status == "running"
    assert [s for s, _ in _history(job)] == ["pending", "running"]


def test_running_back_to_dispatched_is_a_retry_that_has_not_started(job):
    assert _update(job, "running", miner_hotkey="5Miner1")
    assert _update(job, "dispatched", detail="miner 5Miner1 lost; retrying")
    job.refresh_from_db()
    assert (job.status, job.started_at) == ("dispatched", None)
    assert _update(job, "running", miner_hotkey="5Miner2")
    job.refresh_from_db()
    assert (job.status, job.miner_hotkey) == ("running", "5Miner2")
    assert job.started_at is not None


def test_a_validator_cannot_move_a_pending_job(funded_user):
    pending = facilitator_job(user=funded_user, status="pending")
    Job.objects.filter(uuid=pending.uuid).update(validator_hotkey=VALIDATOR)
    assert not _update(pending, "running")
    assert not _update(pending, "completed", result={"exit_code": 0, "executor_seconds": 1})
    pending.refresh_from_db()
    assert (pending.status, pending.cost) == ("pending", None)


def test_duplicate_report_is_ignored(job):
    assert _update(job, "running", detail="started")
    assert not _update(job, "running", detail="started")
    assert _history(job) == [("pending", "submitted"), ("running", "started")]


def test_duplicate_report_with_a_nul_in_its_detail_is_ignored(job):
    assert _update(job, "running", detail="a\x00")
    assert not _update(job, "running", detail="a\x00")
    assert _history(job)[1:] == [("running", "a\ufffd")]


def test_progress_with_a_new_detail_is_recorded(job):
    assert _update(job, "dispatched", detail="miner 1 reserved")
    assert _update(job, "dispatched", detail="miner 1 declined; trying miner 2")
    job.refresh_from_db()
    assert job.status == "dispatched"
    assert [d for _, d in _history(job)][1:] == ["miner 1 reserved", "miner 1 declined; trying miner 2"]


def test_terminal_is_final(job, funded_user):
    assert _update(job, "completed", result={"exit_code": 0, "stdout": "first", "executor_seconds": 5})
    job.refresh_from_db()
    snapshot = (job.status, job.stdout, job.cost, job.finished_at, job.exit_code)
    later: list[tuple[str, dict[str, Any]]] = [
        (
            "failed",
            {"failure": {"kind": "job", "reason": "nonzero_exit"}, "result": {"exit_code": 1, "executor_seconds": 50}},
        ),
        ("completed", {"result": {"exit_code": 0, "stdout": "second", "executor_seconds": 500}}),
        ("running", {}),
        ("cancelled", {}),
    ]
    for status, fields in later:
        assert not _update(job, status, **fields)
    job.refresh_from_db()
    assert (job.status, job.stdout, job.cost, job.finished_at, job.exit_code) == snapshot
    assert job.failure_kind == ""
    assert CreditTransaction.objects.filter(job=job, kind="charge").count() == 1
    assert [s for s, _ in _history(job)] == ["pending", "completed"]


def test_update_from_another_validator_is_ignored(job):
    assert not _update(job, "running", validator="5SomeoneElse")
    assert not _update(job, "completed", validator="5SomeoneElse", result={"exit_code": 0, "executor_seconds": 1})
    job.refresh_from_db()
    assert (job.status, job.started_at, job.cost) == ("dispatched", None, None)


def test_update_for_an_unknown_job_is_ignored(job):
    update = JobStatusUpdate(job_uuid=uuid.uuid4(), status=JobStatus.RUNNING)
    assert not job_apply_status_update(validator_hotkey=VALIDATOR, update=update)


def test_output_is_stored(job):
    archive = zip_bytes({"out/result.json": '{"ok": true}'})
    assert _update(
        job,
        "completed",
        result={"exit_code": 0, "executor_seconds": 1, "output_zip_b64": base64.b64encode(archive).decode()},
    )
    output = JobOutput.objects.get(job=job)
    assert (bytes(output.zip_bytes), output.size) == (archive, len(archive))


def test_output_that_is_not_base64_is_dropped_but_the_job_completes(job):
    assert _update(job, "completed", result={"exit_code": 0, "executor_seconds": 1, "output_zip_b64": "!!not b64"})
    job.refresh_from_db()
    assert job.status == "completed"
    assert not JobOutput.objects.filter(job=job).exists()


def test_failure_is_stored(job):
    assert _update(
        job,
        "failed",
        result={"exit_code": 137, "stderr": "killed", "executor_seconds": 3},
        failure={"kind": "job", "reason": "nonzero_exit", "detail": "exit 137"},
    )
    job.refresh_from_db()
    assert (job.failure_kind, job.failure_reason, job.failure_detail) == ("job", "nonzero_exit", "exit 137")
    assert (job.exit_code, job.stderr) == (137, "killed")


def test_started_at_set_by_a_result_with_time_even_without_running(job):
    assert _update(job, "completed", result={"exit_code": 0, "executor_seconds": 2})
    job.refresh_from_db()
    assert job.started_at is not None


def test_logs_with_nul_bytes_are_stored(job):
    # A container may print anything; Postgres text cannot hold NUL, and the job must still finish.
    assert _update(
        job,
        "completed",
        detail="done\x00",
        result={"exit_code": 0, "stdout": "a\x00b", "stderr": "\x00", "executor_seconds": 1},
    )
    job.refresh_from_db()
    assert job.status == "completed"
    assert (job.stdout, job.stderr) == ("a\ufffdb", "\ufffd")
    assert _history(job)[-1] == ("completed", "done\ufffd")


def test_failure_with_nul_bytes_is_stored(job):
    assert _update(job, "failed", miner_hotkey="5M\x00", failure={"kind": "job", "reason": "r\x00", "detail": "\x00"})
    job.refresh_from_db()
    assert (job.status, job.failure_reason, job.failure_detail, job.miner_hotkey) == (
        "failed",
        "r\ufffd",
        "\ufffd",
        "5M\ufffd",
    )


def test_the_streams_byte_counts_and_truncation_flags_are_kept(job):
    result = {
        "exit_code": 0,
        "stdout": "o\n[meshwork: stdout truncated: 209715200 bytes written, 1 kept]\n",
        "stderr": "e",
        "executor_seconds": 4.0,
        "stdout_bytes": 209715200,
        "stderr_bytes": 1,
        "stdout_truncated": True,
    }
    assert _update(job, "completed", result=result)
    job.refresh_from_db()
    assert (job.stdout_bytes, job.stdout_truncated) == (209715200, True)
    assert (job.stderr_bytes, job.stderr_truncated) == (1, False)


@pytest.mark.parametrize("seconds", [float("inf"), 1e308, 172_800.5])
def test_absurd_executor_seconds_are_refused_and_change_nothing(job, seconds, settings):
    # Found by tests/fuzz: such a figure, once stored, made settlement raise decimal.InvalidOperation.
    settings.MAX_EXECUTOR_SECONDS = 172_800.0
    assert _update(job, "running")
    with pytest.raises(StatusUpdateRefused, match="exceeds MAX_EXECUTOR_SECONDS"):
        _update(job, "completed", result={"exit_code": 0, "executor_seconds": seconds})
    job.refresh_from_db()
    assert (job.status, job.executor_seconds, job.cost) == ("running", None, None)
    # The job still ends normally on a plausible report.
    assert _update(job, "completed", result={"exit_code": 0, "executor_seconds": 172_800.0})
