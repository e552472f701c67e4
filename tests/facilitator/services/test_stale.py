from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from facilitator.models import CreditAccount, Job
from facilitator.services.cancel import job_cancel
from facilitator.services.sessions import validator_session_close, validator_session_open
from facilitator.services.stale import jobs_expire_stale
from facilitator.services.status import job_apply_status_update
from protocol.messages.facilitator import JobStatusUpdate
from protocol.messages.jobs import JobStatus
from tests.facilitator.factories import FUNDED_CREDITS, facilitator_job

pytestmark = pytest.mark.django_db
VALIDATOR = "5Validator"


@pytest.fixture
def vanished():
    """The validator connected once and is gone now."""
    session = validator_session_open(hotkey=VALIDATOR, channel_name="gone")
    validator_session_close(channel_name=session.channel_name)


def _stale_s() -> float:
    return settings.FACILITATOR_DISPATCH_STALE_S


def _start(job) -> None:
    update = JobStatusUpdate(job_uuid=job.uuid, status=JobStatus.RUNNING, miner_hotkey="5Miner")
    assert job_apply_status_update(validator_hotkey=VALIDATOR, update=update)


def test_unstarted_job_of_a_vanished_validator_is_requeued(funded_user, vanished):
    job = facilitator_job(user=funded_user, validator_hotkey=VALIDATOR)
    with time_machine.travel(timezone.now() + timedelta(seconds=_stale_s() - 5)):
        assert jobs_expire_stale() == 0  # give it a chance to come back first
    assert Job.objects.get(uuid=job.uuid).status == JobStatus.DISPATCHED
    with time_machine.travel(timezone.now() + timedelta(seconds=_stale_s() + 5)):
        assert jobs_expire_stale() == 1
    job.refresh_from_db()
    assert (job.status, job.validator_hotkey, job.dispatched_at) == (JobStatus.PENDING, "", None)
    last = job.history.last()
    assert last is not None
    assert last.detail == "validator lost before start; requeued"
    assert CreditAccount.objects.get(user=funded_user).held == job.hold  # still held: it will run
    assert jobs_expire_stale() == 0


def test_jobs_of_a_live_validator_are_left_alone(funded_user):
    validator_session_open(hotkey=VALIDATOR, channel_name="live")
    dispatched = facilitator_job(user=funded_user, validator_hotkey=VALIDATOR)
    running = facilitator_job(user=funded_user, validator_hotkey=VALIDATOR)
    _start(running)
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        assert jobs_expire_stale() == 0
    assert Job.objects.get(uuid=dispatched.uuid).status == JobStatus.DISPATCHED
    assert Job.objects.get(uuid=running.uuid).status == JobStatus.RUNNING


def test_a_validator_that_never_connected_counts_as_vanished(funded_user):
    job = facilitator_job(user=funded_user, validator_hotkey="5NeverSeen")
    with time_machine.travel(timezone.now() + timedelta(seconds=_stale_s() + 1)):
        assert jobs_expire_stale() == 1
    assert Job.objects.get(uuid=job.uuid).status == JobStatus.PENDING


def test_started_job_fails_as_infrastructure_after_the_deadline(funded_user, vanished):
    job = facilitator_job(user=funded_user, validator_hotkey=VALIDATOR, timeout_s=100)
    _start(job)
    assert job.dispatched_at is not None
    deadline = job.dispatched_at + timedelta(seconds=100 + 2 * _stale_s())
    with time_machine.travel(deadline - timedelta(seconds=5)):
        assert jobs_expire_stale() == 0  # it may still be running and report back
    assert Job.objects.get(uuid=job.uuid).status == JobStatus.RUNNING
    with time_machine.travel(deadline + timedelta(seconds=5)):
        assert jobs_expire_stale() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert (job.failure_kind, job.failure_reason) == ("infrastructure", "validator_lost")
    assert VALIDATOR in job.failure_detail
    assert job.cost == 0
    assert job.finished_at is not None
    account = CreditAccount.objects.get(user=funded_user)
    assert (account.balance, account.held) == (FUNDED_CREDITS, Decimal(0))
    assert [e.status for e in job.history.all()][-1] == "failed"
    with time_machine.travel(deadline + timedelta(days=1)):
        assert jobs_expire_stale() == 0


def test_late_report_after_a_lost_job_failed_changes_nothing(funded_user, vanished):
    job = facilitator_job(user=funded_user, validator_hotkey=VALIDATOR, timeout_s=10)
    _start(job)
    with time_machine.travel(timezone.now() + timedelta(seconds=10 + 2 * _stale_s() + 1)):
        assert jobs_expire_stale() == 1
    late = JobStatusUpdate.model_validate(
        {"job_uuid": job.uuid, "status": "completed", "result": {"exit_code": 0, "executor_seconds": 9}}
    )
    assert not job_apply_status_update(validator_hotkey=VALIDATOR, update=late)
    job.refresh_from_db()
    assert (job.status, job.cost) == (JobStatus.FAILED, 0)


def test_finished_and_pending_jobs_are_not_touched(funded_user, vanished):
    pending = facilitator_job(user=funded_user, status="pending")
    done = facilitator_job(user=funded_user, status="completed", validator_hotkey=VALIDATOR)
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        assert jobs_expire_stale() == 0
    assert Job.objects.get(uuid=pending.uuid).status == JobStatus.PENDING
    assert Job.objects.get(uuid=done.uuid).status == JobStatus.COMPLETED


def test_cancelled_unstarted_job_of_a_vanished_validator_is_not_run_again(funded_user, vanished):
    job = facilitator_job(user=funded_user, validator_hotkey=VALIDATOR)
    job_cancel(job=job)  # the validator is gone: the cancel cannot reach it
    with time_machine.travel(timezone.now() + timedelta(seconds=_stale_s() + 5)):
        jobs_expire_stale()
    job.refresh_from_db()
    # Requeued, it would run (and be billed) although the user cancelled it.
    assert job.status == JobStatus.CANCELLED
    assert job.cost == 0
    account = CreditAccount.objects.get(user=funded_user)
    assert (account.balance, account.held) == (FUNDED_CREDITS, Decimal(0))


def test_the_lease_of_a_job_dispatched_long_ago_runs_from_its_validators_disconnect(funded_user):
    """The validator held the job for a long time, then dropped (its restart, or ours): it gets
    the whole lease to come back and resume the job before anyone else is given it."""
    session = validator_session_open(hotkey=VALIDATOR, channel_name="long-lived")
    job = facilitator_job(user=funded_user, validator_hotkey=VALIDATOR)
    later = timezone.now() + timedelta(seconds=10 * _stale_s())
    with time_machine.travel(later, tick=False):
        validator_session_close(channel_name=session.channel_name)
    with time_machine.travel(later + timedelta(seconds=_stale_s() - 5)):
        assert jobs_expire_stale() == 0
    assert Job.objects.get(uuid=job.uuid).status == JobStatus.DISPATCHED
    with time_machine.travel(later + timedelta(seconds=_stale_s() + 5)):
        assert jobs_expire_stale() == 1
    assert Job.objects.get(uuid=job.uuid).status == JobStatus.PENDING


def test_a_started_job_of_a_validator_that_just_dropped_is_not_failed_at_once(funded_user):
    session = validator_session_open(hotkey=VALIDATOR, channel_name="running-long")
    job = facilitator_job(user=funded_user, validator_hotkey=VALIDATOR, timeout_s=10)
    _start(job)
    later = timezone.now() + timedelta(seconds=10 * _stale_s())
    with time_machine.travel(later, tick=False):
        validator_session_close(channel_name=session.channel_name)
    with time_machine.travel(later + timedelta(seconds=_stale_s())):
        assert jobs_expire_stale() == 0
    assert Job.objects.get(uuid=job.uuid).status == JobStatus.RUNNING
    with time_machine.travel(later + timedelta(seconds=2 * _stale_s() + 5)):
        assert jobs_expire_stale() == 1
    job.refresh_from_db()
    assert (job.status, job.failure_kind, job.cost) == (JobStatus.FAILED, "infrastructure", Decimal(0))
