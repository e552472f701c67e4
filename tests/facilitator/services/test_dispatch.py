import asyncio
import json
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.db import transaction

from facilitator.models import Job, ValidatorSession
from facilitator.notify import FORWARD_EVENT
from facilitator.services.cancel import job_cancel
from facilitator.services.dispatch import job_dispatch, jobs_dispatch_pending, jobs_resend_to_validator
from facilitator.services.jobs import job_create
from facilitator.services.sessions import (
    validator_session_close,
    validator_session_open,
    validator_sessions_close_all,
)
from protocol.messages.jobs import JobStatus
from tests.facilitator.factories import facilitator_job
from tests.factories import job_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel() -> str:
    """A channel on the real Redis channel layer, standing in for a validator's consumer."""
    return f"test-validator-{uuid.uuid4().hex}"


def _drain(channel: str, wait: float = 0.3) -> list[dict]:
    """Every frame sent to `channel`, decoded, waiting `wait` seconds for the last one."""

    async def collect() -> list[dict]:
        # A layer of this event loop's own: a sync test runs each async_to_sync in a new loop.
        layer = RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
        frames: list[dict] = []
        try:
            while True:
                try:
                    event = await asyncio.wait_for(layer.receive(channel), wait)
                except TimeoutError:
                    return frames
                assert event["type"] == FORWARD_EVENT
                frames.append(json.loads(event["payload"]))
        finally:
            await layer.close_pools()

    return async_to_sync(collect)()


def test_no_live_validator_leaves_the_job_pending(funded_user, django_capture_on_commit_callbacks):
    closed = validator_session_open(hotkey="5Gone", channel_name="gone")
    validator_session_close(channel_name=closed.channel_name)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(user=funded_user, spec=job_spec())
    job.refresh_from_db()
    assert (job.status, job.validator_hotkey, job.dispatched_at) == (JobStatus.PENDING, "", None)
    assert not job_dispatch(job_uuid=job.uuid)
    assert [e.status for e in job.history.all()] == ["pending"]


def test_job_created_with_a_live_validator_is_sent_after_commit(
    funded_user, channel, django_capture_on_commit_callbacks
):
    validator_session_open(hotkey="5Validator", channel_name=channel)
    spec = job_spec(args=["a", "b"], env={"K": "v"})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = job_create(user=funded_user, spec=spec)
    # Dispatch after the job commits, then the send after the claim commits; each recorded
    # transition also wakes whoever waits on the job, after its commit.
    owners = [cb.__qualname__.split(".")[0] for cb in callbacks]
    assert [o for o in owners if o != "notify_job_watchers_on_commit"] == [
        "job_dispatch_on_commit",
        "send_to_validator_on_commit",
    ]
    assert owners.count("notify_job_watchers_on_commit") == 2
    job.refresh_from_db()
    assert (job.status, job.validator_hotkey) == (JobStatus.DISPATCHED, "5Validator")
    assert job.dispatched_at is not None
    assert [(e.status, e.detail) for e in job.history.all()] == [
        ("pending", "submitted"),
        ("dispatched", "sent to validator 5Validator"),
    ]
    assert _drain(channel) == [{"type": "job.request", "job_uuid": str(job.uuid), "spec": spec.model_dump(mode="json")}]


def test_nothing_is_sent_for_a_rolled_back_transaction(funded_user, channel, django_capture_on_commit_callbacks):
    validator_session_open(hotkey="5Validator", channel_name=channel)

    class Abort(Exception):
        pass

    def create_then_fail() -> None:
        with transaction.atomic():
            job_create(user=funded_user, spec=job_spec())
            raise Abort

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Abort):
        create_then_fail()
    assert callbacks == []
    assert Job.objects.count() == 0
    assert _drain(channel, wait=0.2) == []


def test_two_dispatches_of_one_job_send_it_once(funded_user, channel, django_capture_on_commit_callbacks):
    job = facilitator_job(user=funded_user, status="pending")
    validator_session_open(hotkey="5Validator", channel_name=channel)
    with django_capture_on_commit_callbacks(execute=True):
        first = job_dispatch(job_uuid=job.uuid)
    with django_capture_on_commit_callbacks(execute=True):
        second = job_dispatch(job_uuid=job.uuid)
    assert (first, second) == (True, False)
    assert [f["job_uuid"] for f in _drain(channel)] == [str(job.uuid)]
    assert job.history.filter(status="dispatched").count() == 1


def test_finished_or_cancelled_jobs_are_not_dispatched(funded_user, channel):
    validator_session_open(hotkey="5Validator", channel_name=channel)
    job = facilitator_job(user=funded_user, status="pending")
    job_cancel(job=job)
    assert not job_dispatch(job_uuid=job.uuid)
    assert Job.objects.get(uuid=job.uuid).status == JobStatus.CANCELLED


def test_the_least_loaded_validator_gets_the_job(funded_user, django_capture_on_commit_callbacks):
    validator_session_open(hotkey="5Busy", channel_name="busy")
    validator_session_open(hotkey="5Idle", channel_name="idle")
    for _ in range(2):
        facilitator_job(user=funded_user, status="running", validator_hotkey="5Busy")
    facilitator_job(user=funded_user, status="completed", validator_hotkey="5Idle")  # finished work is no load
    for _ in range(3):
        job = facilitator_job(user=funded_user, status="pending")
        with django_capture_on_commit_callbacks():
            assert job_dispatch(job_uuid=job.uuid)
        job.refresh_from_db()
        assert job.validator_hotkey == "5Idle"
        Job.objects.filter(uuid=job.uuid).update(status="completed")


def test_dispatch_pending_sends_every_pending_job_oldest_first(
    funded_user, channel, django_capture_on_commit_callbacks
):
    pending = [facilitator_job(user=funded_user, status="pending") for _ in range(3)]
    facilitator_job(user=funded_user, status="running", validator_hotkey="5Other")
    validator_session_open(hotkey="5Validator", channel_name=channel)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_dispatch_pending() == 3
    assert [f["job_uuid"] for f in _drain(channel)] == [str(j.uuid) for j in pending]
    assert set(Job.objects.values_list("status", flat=True)) == {"dispatched", "running"}
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_dispatch_pending() == 0
    assert _drain(channel, wait=0.1) == []


def test_dispatch_pending_respects_its_limit(funded_user):
    for _ in range(3):
        facilitator_job(user=funded_user, status="pending")
    validator_session_open(hotkey="5Validator", channel_name="c")
    assert jobs_dispatch_pending(limit=2) == 2
    assert Job.objects.filter(status="pending").count() == 1


def test_reconnect_resends_unfinished_jobs_and_cancels(funded_user, channel, django_capture_on_commit_callbacks):
    running = facilitator_job(user=funded_user, status="running")
    dispatched = facilitator_job(user=funded_user)
    cancelling = facilitator_job(user=funded_user)
    job_cancel(job=cancelling)  # no live session: the cancel waits for the reconnect
    facilitator_job(user=funded_user, status="completed")
    facilitator_job(user=funded_user, status="running", validator_hotkey="5Other")
    session = validator_session_open(hotkey="5Validator", channel_name=channel)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_resend_to_validator(hotkey="5Validator", channel_name=session.channel_name) == 3
    frames = _drain(channel)
    assert sorted((f["type"], f["job_uuid"]) for f in frames) == sorted(
        [
            ("job.request", str(running.uuid)),
            ("job.request", str(dispatched.uuid)),
            ("job.request", str(cancelling.uuid)),
            ("job.cancel", str(cancelling.uuid)),
        ]
    )
    request = next(f for f in frames if f["job_uuid"] == str(running.uuid))
    assert request["spec"] == job_spec().model_dump(mode="json")
    # The job's state is not touched by a resend.
    assert Job.objects.get(uuid=running.uuid).status == JobStatus.RUNNING


def test_sessions_open_close(db):
    a = validator_session_open(hotkey="5A", channel_name="a")
    validator_session_open(hotkey="5B", channel_name="b")
    validator_session_close(channel_name="a")
    a.refresh_from_db()
    assert a.disconnected_at is not None
    closed_at = a.disconnected_at
    validator_session_close(channel_name="a")  # closing twice keeps the first time
    a.refresh_from_db()
    assert a.disconnected_at == closed_at
    assert validator_sessions_close_all() == 1
    assert not ValidatorSession.objects.filter(disconnected_at=None).exists()
