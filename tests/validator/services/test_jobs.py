import uuid

import pytest

from protocol.messages.common import Failure, FailureKind, JobResult
from protocol.messages.facilitator import JobStatusUpdate
from protocol.messages.jobs import JobStatus
from tests.factories import job_spec
from tests.validator.factories import MinerFactory
from validator.models import FacilitatorOutbox, OrganicJob
from validator.selectors import outbox_pending
from validator.services.jobs import (
    organic_job_attempt,
    organic_job_receive,
    organic_job_record,
    organic_job_request_cancel,
    organic_job_resend_last,
    organic_job_resume,
    outbox_mark_sent,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def job() -> OrganicJob:
    job, created = organic_job_receive(job_uuid=uuid.uuid4(), spec=job_spec())
    assert created
    return job


def _outbox(job) -> list[dict]:
    return [row.payload for row in FacilitatorOutbox.objects.filter(job=job).order_by("id")]


def test_receive_is_idempotent_by_uuid():
    job_uuid = uuid.uuid4()
    job, created = organic_job_receive(job_uuid=job_uuid, spec=job_spec(args=["first"]))
    assert created
    assert job.spec == job_spec(args=["first"]).model_dump(mode="json")
    assert job.status == JobStatus.PENDING
    again, created = organic_job_receive(job_uuid=job_uuid, spec=job_spec(args=["second"]))
    assert not created
    assert again.spec["args"] == ["first"]
    assert OrganicJob.objects.count() == 1


def test_record_writes_the_job_an_event_and_an_outbox_row(job):
    miner = MinerFactory.create()
    assert organic_job_record(job_uuid=job.uuid, status=JobStatus.RUNNING, detail="started", miner_hotkey=miner.hotkey)
    job.refresh_from_db()
    assert (job.status, job.miner) == (JobStatus.RUNNING, miner)
    event = job.events.get()
    assert (event.status, event.miner_hotkey, event.detail) == ("running", miner.hotkey, "started")
    assert _outbox(job) == [
        JobStatusUpdate(
            job_uuid=job.uuid, status=JobStatus.RUNNING, detail="started", miner_hotkey=miner.hotkey
        ).model_dump(mode="json")
    ]


def test_record_result_and_failure(job):
    result = JobResult(exit_code=2, stdout="o", stderr="e", executor_seconds=1.25)
    failure = Failure(kind=FailureKind.JOB, reason="nonzero_exit", detail="exit 2")
    assert organic_job_record(
        job_uuid=job.uuid, status=JobStatus.FAILED, result=result, observed_seconds=1.5, failure=failure
    )
    job.refresh_from_db()
    assert (job.exit_code, job.executor_seconds, job.failure_kind, job.failure_reason) == (
        2,
        1.25,
        "job",
        "nonzero_exit",
    )
    payload = _outbox(job)[-1]
    assert JobStatusUpdate.model_validate(payload) == JobStatusUpdate(
        job_uuid=job.uuid, status=JobStatus.FAILED, result=result, failure=failure
    )


@pytest.mark.parametrize(
    ("reported", "observed", "billed"),
    [
        (3600.0, 2.5, 2.5),  # inflated: the validator's observation wins
        (2.0, 2.5, 2.0),  # honest, within what was observed: kept
        (2.5, 2.5, 2.5),
        (0.0, 2.5, 0.0),  # under-reporting only costs the miner
        (5.0, 0.0, 0.0),  # JobStarted never seen: nothing observed, nothing paid
    ],
)
def test_executor_seconds_are_the_lesser_of_report_and_observation(job, reported, observed, billed):
    result = JobResult(exit_code=0, stdout="o", executor_seconds=reported)
    assert organic_job_record(job_uuid=job.uuid, status=JobStatus.COMPLETED, result=result, observed_seconds=observed)
    job.refresh_from_db()
    assert (job.reported_seconds, job.observed_seconds, job.executor_seconds) == (reported, observed, billed)
    # Upstream (the facilitator bills from this) gets the capped figure, nothing else changed.
    assert JobStatusUpdate.model_validate(_outbox(job)[-1]).result == result.model_copy(
        update={"executor_seconds": billed}
    )


def test_a_result_without_an_observation_is_worth_nothing(job):
    result = JobResult(exit_code=0, executor_seconds=7.0)
    assert organic_job_record(job_uuid=job.uuid, status=JobStatus.COMPLETED, result=result)
    job.refresh_from_db()
    assert (job.reported_seconds, job.observed_seconds, job.executor_seconds) == (7.0, 0.0, 0.0)


def test_unknown_miner_is_recorded_by_hotkey_only(job):
    assert organic_job_record(job_uuid=job.uuid, status=JobStatus.RUNNING, miner_hotkey="5NotSynced")
    job.refresh_from_db()
    assert job.miner is None
    assert _outbox(job)[0]["miner_hotkey"] == "5NotSynced"


@pytest.mark.parametrize("terminal", ["completed", "failed", "timeout", "cancelled", "rejected"])
def test_terminal_is_final(job, terminal):
    assert organic_job_record(job_uuid=job.uuid, status=JobStatus(terminal))
    for late in (JobStatus.RUNNING, JobStatus.COMPLETED, JobStatus.FAILED):
        assert not organic_job_record(job_uuid=job.uuid, status=late, result=JobResult(exit_code=9, executor_seconds=9))
    job.refresh_from_db()
    assert (job.status, job.exit_code) == (terminal, None)
    assert job.events.count() == 1
    assert len(_outbox(job)) == 1


def test_record_for_an_unknown_job_raises(db):
    with pytest.raises(OrganicJob.DoesNotExist):
        organic_job_record(job_uuid=uuid.uuid4(), status=JobStatus.RUNNING)
    assert not FacilitatorOutbox.objects.exists()


def test_long_detail_is_cut_to_the_wire_limit(job):
    assert organic_job_record(job_uuid=job.uuid, status=JobStatus.RUNNING, detail="d" * 5000)
    assert job.events.get().detail == "d" * 4000
    assert _outbox(job)[0]["detail"] == "d" * 4000


def test_logs_with_nul_bytes_are_recorded(job):
    # A container may print NUL; Postgres text and jsonb cannot hold it, and the report must not be lost.
    result = JobResult(exit_code=0, stdout="a\x00b", stderr="\x00", executor_seconds=1)
    assert organic_job_record(
        job_uuid=job.uuid, status=JobStatus.COMPLETED, detail="x\x00", result=result, observed_seconds=1
    )
    payload = _outbox(job)[0]
    assert (payload["result"]["stdout"], payload["result"]["stderr"], payload["detail"]) == (
        "a\ufffdb",
        "\ufffd",
        "x\ufffd",
    )
    assert job.events.get().detail == "x\ufffd"


def test_attempts_count_up(job):
    assert [organic_job_attempt(job_uuid=job.uuid) for _ in range(3)] == [1, 2, 3]
    job.refresh_from_db()
    assert job.attempts == 3


def test_request_cancel(job):
    cancelled = organic_job_request_cancel(job_uuid=job.uuid)
    assert cancelled is not None
    assert cancelled.uuid == job.uuid
    assert cancelled.cancel_requested is True
    assert organic_job_request_cancel(job_uuid=uuid.uuid4()) is None


def test_outbox_pending_in_order_and_mark_sent(job):
    other, _ = organic_job_receive(job_uuid=uuid.uuid4(), spec=job_spec())
    organic_job_record(job_uuid=job.uuid, status=JobStatus.DISPATCHED, detail="1")
    organic_job_record(job_uuid=other.uuid, status=JobStatus.DISPATCHED, detail="2")
    organic_job_record(job_uuid=job.uuid, status=JobStatus.RUNNING, detail="3")
    pending = outbox_pending()
    assert [row.payload["detail"] for row in pending] == ["1", "2", "3"]
    assert [row.payload["detail"] for row in outbox_pending(limit=2)] == ["1", "2"]
    outbox_mark_sent(ids=[pending[0].id, pending[2].id])
    assert [row.payload["detail"] for row in outbox_pending()] == ["2"]
    sent_at = FacilitatorOutbox.objects.get(pk=pending[0].id).sent_at
    assert sent_at is not None
    outbox_mark_sent(ids=[pending[0].id, pending[1].id])  # marking again keeps the first time
    assert FacilitatorOutbox.objects.get(pk=pending[0].id).sent_at == sent_at
    assert outbox_pending() == []


def test_resend_last_reopens_only_the_final_report(job):
    organic_job_record(job_uuid=job.uuid, status=JobStatus.RUNNING)
    organic_job_record(job_uuid=job.uuid, status=JobStatus.COMPLETED, result=JobResult(exit_code=0, executor_seconds=1))
    outbox_mark_sent(ids=[row.id for row in outbox_pending()])
    assert organic_job_resend_last(job_uuid=job.uuid) is True
    pending = outbox_pending()
    assert [row.payload["status"] for row in pending] == ["completed"]
    assert organic_job_resend_last(job_uuid=uuid.uuid4()) is False
    fresh, _ = organic_job_receive(job_uuid=uuid.uuid4(), spec=job_spec())
    assert organic_job_resend_last(job_uuid=fresh.uuid) is False


def test_a_result_too_large_for_the_facilitator_frame_is_cut_to_fit_not_lost(job, settings):
    settings.PROTOCOL_MAX_FRAME_BYTES = 64 * 1024 + 50_000
    result = JobResult(exit_code=0, stdout="o" * 200_000, executor_seconds=1, stdout_bytes=200_000)
    assert organic_job_record(job_uuid=job.uuid, status=JobStatus.COMPLETED, result=result, observed_seconds=1)

    update = JobStatusUpdate.model_validate(_outbox(job)[0])
    assert len(update.model_dump_json().encode()) <= settings.PROTOCOL_MAX_FRAME_BYTES
    assert update.result is not None
    assert (update.result.stdout_bytes, update.result.stdout_truncated) == (200_000, True)
    assert update.result.stdout.endswith(" kept]\n")


def test_a_zip_no_honest_executor_sends_is_dropped_and_the_job_still_reported(job, settings):
    settings.PROTOCOL_MAX_FRAME_BYTES = 64 * 1024 + 50_000
    result = JobResult(exit_code=0, stdout="ok", output_zip_b64="A" * 80_000, executor_seconds=1)
    assert organic_job_record(job_uuid=job.uuid, status=JobStatus.COMPLETED, result=result, observed_seconds=1)

    payload = _outbox(job)[0]
    assert payload["status"] == "completed"
    assert (payload["result"]["stdout"], payload["result"]["output_zip_b64"]) == ("ok", "")


def test_resume_of_a_job_a_miner_was_running_counts_an_attempt_and_reports_a_retry(job):
    miner = MinerFactory.create()
    organic_job_record(
        job_uuid=job.uuid, status=JobStatus.RUNNING, detail="container started", miner_hotkey=miner.hotkey
    )
    assert organic_job_resume(job_uuid=job.uuid)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.DISPATCHED, 1)
    last = _outbox(job)[-1]
    assert (last["status"], last["miner_hotkey"]) == ("dispatched", miner.hotkey)
    assert last["detail"].startswith("infrastructure failure: the validator restarted while miner")


def test_resume_of_a_job_no_miner_had_changes_nothing(job):
    assert not organic_job_resume(job_uuid=job.uuid)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.PENDING, 0)
    assert _outbox(job) == []


def test_resume_of_a_job_that_ended_changes_nothing(job):
    miner = MinerFactory.create()
    result = JobResult(exit_code=0, stdout="ok", executor_seconds=1.0)
    organic_job_record(
        job_uuid=job.uuid, status=JobStatus.COMPLETED, miner_hotkey=miner.hotkey, result=result, observed_seconds=1.0
    )
    before = _outbox(job)
    assert not organic_job_resume(job_uuid=job.uuid)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.COMPLETED, 0)
    assert _outbox(job) == before
