from decimal import Decimal

import pytest

from facilitator.models import CreditAccount
from facilitator.services.cancel import JobAlreadyFinished, job_cancel
from facilitator.services.sessions import validator_session_open
from protocol.messages.jobs import JobStatus
from tests.facilitator.factories import facilitator_job

pytestmark = pytest.mark.django_db
VALIDATOR = "5Validator"


@pytest.fixture
def sent(monkeypatch):
    """What the cancel service hands to the channel layer after commit."""
    import facilitator.services.cancel

    messages: list[tuple[str, dict]] = []

    def capture(*, channel_name, message):
        messages.append((channel_name, message.model_dump(mode="json")))

    monkeypatch.setattr(facilitator.services.cancel, "send_to_validator_on_commit", capture)
    return messages


def test_pending_job_is_cancelled_at_once(funded_user, sent):
    job = facilitator_job(user=funded_user, status="pending")
    cancelled = job_cancel(job=job)
    assert (cancelled.status, cancelled.cost) == (JobStatus.CANCELLED, Decimal(0))
    assert cancelled.finished_at is not None
    assert [(e.status, e.detail) for e in cancelled.history.all()][-1] == (
        "cancelled",
        "cancelled by the user before dispatch",
    )
    assert CreditAccount.objects.get(user=funded_user).held == 0
    assert sent == []


@pytest.mark.parametrize("status", ["dispatched", "running"])
def test_job_in_flight_is_cancelled_through_its_validator(funded_user, sent, status):
    validator_session_open(hotkey=VALIDATOR, channel_name="live")
    validator_session_open(hotkey="5Other", channel_name="other")
    job = facilitator_job(user=funded_user, status=status, validator_hotkey=VALIDATOR)
    result = job_cancel(job=job)
    result.refresh_from_db()
    assert result.status == status  # the validator reports `cancelled` once the container is gone
    assert result.cancel_requested_at is not None
    assert sent == [("live", {"type": "job.cancel", "job_uuid": str(job.uuid)})]
    last = result.history.last()
    assert last is not None
    assert last.detail == "cancellation requested"
    assert CreditAccount.objects.get(user=funded_user).held == job.hold


def test_second_cancel_resends_but_records_once(funded_user, sent):
    validator_session_open(hotkey=VALIDATOR, channel_name="live")
    job = facilitator_job(user=funded_user, validator_hotkey=VALIDATOR)
    job_cancel(job=job)
    first_requested = job.__class__.objects.get(uuid=job.uuid).cancel_requested_at
    job_cancel(job=job)
    job.refresh_from_db()
    assert job.cancel_requested_at == first_requested
    assert len(sent) == 2
    assert job.history.filter(detail="cancellation requested").count() == 1


def test_cancel_without_a_live_validator_waits_for_its_reconnect(funded_user, sent):
    job = facilitator_job(user=funded_user, validator_hotkey=VALIDATOR)
    job_cancel(job=job)
    job.refresh_from_db()
    assert job.cancel_requested_at is not None
    assert sent == []


@pytest.mark.parametrize("status", ["completed", "failed", "timeout", "cancelled", "rejected"])
def test_finished_job_cannot_be_cancelled(funded_user, status):
    job = facilitator_job(user=funded_user, status=status)
    with pytest.raises(JobAlreadyFinished, match=status):
        job_cancel(job=job)
    job.refresh_from_db()
    assert (job.status, job.cancel_requested_at) == (status, None)


def test_cancel_message_goes_out_only_after_commit(funded_user, django_capture_on_commit_callbacks):
    validator_session_open(hotkey=VALIDATOR, channel_name="live")
    job = facilitator_job(user=funded_user, validator_hotkey=VALIDATOR)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job_cancel(job=job)
    # Nothing was sent inside the transaction: the cancel to the validator and the wake-up of
    # whoever waits on the job both wait for the commit.
    assert sorted(cb.__qualname__.split(".")[0] for cb in callbacks) == [
        "notify_job_watchers_on_commit",
        "send_to_validator_on_commit",
    ]
