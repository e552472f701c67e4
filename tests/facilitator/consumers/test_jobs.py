"""The validator channel after the handshake: typed errors, job delivery, reconnection, status updates."""

import json
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.conf import settings

from chain.interface import Role
from chain.local import LocalChain
from facilitator.models import Job, ValidatorSession
from facilitator.services.jobs import job_create
from protocol.keys import hotkey_create
from protocol.messages.jobs import JobStatus
from tests.facilitator.consumers.channel import (
    PATH,
    QuickTimeoutConsumer,
    channel_connect,
    db,
    error_frame,
    eventually,
    job_for,
    status_frame,
)
from tests.factories import job_spec

# --- after the handshake -------------------------------------------------------------------


@db
async def test_bad_frames_get_typed_errors_and_the_connection_keeps_serving(
    registered_validator_key, node_key, funded_user
):
    job = await sync_to_async(job_for)(funded_user, registered_validator_key.ss58)
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    await comm.receive_json_from(timeout=3)  # the resend of the job it holds

    await comm.send_to(text_data="{not json")
    assert (await error_frame(comm))["code"] == "malformed"
    await comm.send_to(text_data=json.dumps({"type": "job.explode", "job_uuid": str(job.uuid)}))
    error = await error_frame(comm)
    assert error["code"] == "unknown_type"
    assert "job.explode" in error["detail"]
    await comm.send_to(text_data=json.dumps({"type": "job.status", "job_uuid": str(job.uuid)}))
    error = await error_frame(comm)
    assert error["code"] == "malformed"
    assert "status" in error["detail"]
    await comm.send_to(text_data="[1, 2, 3]")
    assert (await error_frame(comm))["code"] == "malformed"
    await comm.send_to(bytes_data=b"\xff\xfe")
    assert (await error_frame(comm))["code"] == "malformed"

    # Still serving: a valid update is applied.
    await comm.send_to(text_data=status_frame(job.uuid, "running", miner_hotkey="5Miner"))
    assert await eventually(lambda: Job.objects.get(uuid=job.uuid).status == JobStatus.RUNNING)
    refreshed = await sync_to_async(Job.objects.get)(uuid=job.uuid)
    assert refreshed.miner_hotkey == "5Miner"
    assert refreshed.started_at is not None
    await comm.disconnect()


@db
async def test_error_frame_from_the_validator_is_logged_not_answered(registered_validator_key, node_key):
    # On the quick consumer: once authenticated, the handshake timer no longer closes the link.
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58, url="/quick" + PATH)
    await comm.send_json_to({"type": "error", "code": "internal", "detail": "validator hiccup"})
    assert await comm.receive_nothing(timeout=QuickTimeoutConsumer.handshake_timeout_s + 0.2)
    await comm.send_to(text_data="ping")
    assert (await error_frame(comm))["code"] == "malformed"
    await comm.disconnect()


@db
async def test_failing_handler_answers_internal_and_keeps_serving(
    registered_validator_key, node_key, funded_user, monkeypatch
):
    import facilitator.consumers
    from facilitator.services.status import job_apply_status_update

    job = await sync_to_async(job_for)(funded_user, registered_validator_key.ss58)
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return job_apply_status_update(**kwargs)

    monkeypatch.setattr(facilitator.consumers, "job_apply_status_update", flaky)
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    await comm.receive_json_from(timeout=3)  # resend
    await comm.send_to(text_data=status_frame(job.uuid, "running"))
    error = await error_frame(comm)
    assert (error["code"], error["detail"]) == ("internal", "handler failed")
    await comm.send_to(text_data=status_frame(job.uuid, "running"))
    assert await eventually(lambda: Job.objects.get(uuid=job.uuid).status == JobStatus.RUNNING)
    await comm.disconnect()


@db
async def test_job_created_while_connected_is_delivered(registered_validator_key, node_key, funded_user):
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    assert await eventually(lambda: ValidatorSession.objects.filter(disconnected_at=None).exists())
    spec = job_spec(args=["echo", "hi"], env={"A": "1"}, timeout_s=30)
    job = await sync_to_async(job_create)(user=funded_user, spec=spec)
    frame = await comm.receive_json_from(timeout=3)
    assert frame == {"type": "job.request", "job_uuid": str(job.uuid), "spec": spec.model_dump(mode="json")}
    dispatched = await sync_to_async(Job.objects.get)(uuid=job.uuid)
    assert (dispatched.status, dispatched.validator_hotkey) == (JobStatus.DISPATCHED, registered_validator_key.ss58)
    # The validator reports back over the same connection and the job moves on.
    await comm.send_to(text_data=status_frame(job.uuid, "running", miner_hotkey="5Miner"))
    await comm.send_to(
        text_data=status_frame(
            job.uuid,
            "completed",
            result={"exit_code": 0, "stdout": "hi\n", "stderr": "", "executor_seconds": 2.0},
        )
    )
    assert await eventually(lambda: Job.objects.get(uuid=job.uuid).status == JobStatus.COMPLETED)
    done = await sync_to_async(Job.objects.get)(uuid=job.uuid)
    assert (done.stdout, done.exit_code, done.cost) == ("hi\n", 0, Decimal("0.002"))
    await comm.disconnect()


@db
async def test_pending_jobs_are_dispatched_when_a_validator_connects(registered_validator_key, node_key, funded_user):
    job = await sync_to_async(job_create)(user=funded_user, spec=job_spec())
    assert (await sync_to_async(Job.objects.get)(uuid=job.uuid)).status == JobStatus.PENDING
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    frame = await comm.receive_json_from(timeout=3)
    assert (frame["type"], frame["job_uuid"]) == ("job.request", str(job.uuid))
    assert (await sync_to_async(Job.objects.get)(uuid=job.uuid)).validator_hotkey == registered_validator_key.ss58
    await comm.disconnect()


@db
async def test_reconnecting_validator_gets_its_jobs_and_cancels_again(registered_validator_key, node_key, funded_user):
    from django.utils import timezone

    held = await sync_to_async(job_for)(funded_user, registered_validator_key.ss58, JobStatus.RUNNING)
    cancelling = await sync_to_async(job_for)(funded_user, registered_validator_key.ss58)
    await sync_to_async(Job.objects.filter(uuid=cancelling.uuid).update)(cancel_requested_at=timezone.now())
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    frames = [await comm.receive_json_from(timeout=3) for _ in range(3)]
    assert sorted((f["type"], f["job_uuid"]) for f in frames) == sorted(
        [
            ("job.request", str(held.uuid)),
            ("job.request", str(cancelling.uuid)),
            ("job.cancel", str(cancelling.uuid)),
        ]
    )
    assert await comm.receive_nothing(timeout=0.2)
    await comm.disconnect()


@db
async def test_update_from_a_validator_the_job_was_not_sent_to_is_ignored(
    registered_validator_key, node_key, funded_user, json_log
):
    other = hotkey_create()[0]
    chain = LocalChain()
    await sync_to_async(chain.register)(hotkey=other.ss58, coldkey=hotkey_create()[0].ss58, role=Role.VALIDATOR)
    await sync_to_async(chain.add_stake)(hotkey=other.ss58, amount=settings.MIN_VALIDATOR_STAKE)
    theirs = await sync_to_async(job_for)(funded_user, registered_validator_key.ss58)
    mine = await sync_to_async(job_for)(funded_user, other.ss58)
    comm, _, _ = await channel_connect(other, node_key.ss58)
    await comm.receive_json_from(timeout=3)  # resend of `mine`
    await comm.send_to(
        text_data=status_frame(
            theirs.uuid, "completed", result={"exit_code": 0, "stdout": "forged", "executor_seconds": 600}
        )
    )
    await comm.send_to(text_data=status_frame(mine.uuid, "running"))
    # Frames are handled in order: once `mine` moved, the forged update was handled (and ignored).
    assert await eventually(lambda: Job.objects.get(uuid=mine.uuid).status == JobStatus.RUNNING)
    untouched = await sync_to_async(Job.objects.get)(uuid=theirs.uuid)
    assert (untouched.status, untouched.stdout, untouched.cost) == (JobStatus.DISPATCHED, "", None)
    [ignored] = [line for line in json_log() if "not its job" in line["event"]]
    assert ignored["job_uuid"] == str(theirs.uuid)  # the log line names the job it is about
    await comm.disconnect()


@db
async def test_a_report_of_absurd_executor_seconds_is_refused_with_a_reason(
    registered_validator_key, node_key, funded_user
):
    job = await sync_to_async(job_for)(funded_user, registered_validator_key.ss58, status=JobStatus.RUNNING)
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    await comm.receive_json_from(timeout=3)  # the resend of the job it holds
    result = {"exit_code": 0, "executor_seconds": 1e300}
    await comm.send_to(text_data=status_frame(job.uuid, "completed", result=result))
    error = await error_frame(comm)
    assert error["code"] == "refused"
    assert error["detail"].startswith("job.status: result.executor_seconds 1e+300 exceeds MAX_EXECUTOR_SECONDS")
    refreshed = await sync_to_async(Job.objects.get)(uuid=job.uuid)
    assert (refreshed.status, refreshed.cost) == (JobStatus.RUNNING, None)
    await comm.disconnect()
