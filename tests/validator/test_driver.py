"""The validator's job driver against miners that finish, stall, lie, vanish, are busy or decline."""

import asyncio
import uuid
from contextlib import AsyncExitStack
from decimal import Decimal

import pytest
import structlog
from asgiref.sync import sync_to_async
from django.utils import timezone

from facilitator.models import Job as FacilitatorJob
from facilitator.services.credits import credits_grant
from facilitator.services.status import job_apply_status_update
from protocol.messages.common import Failure, JobResult, JobSpec
from protocol.messages.facilitator import JobStatusUpdate
from protocol.messages.jobs import ExecutorReady, JobFailed, JobFinished, JobStarted, VolumeReady
from protocol.messages.miner import DeclineReason, JobDeclined, JobReserve, JobRun
from tests.facilitator.factories import FUNDED_CREDITS, facilitator_job
from tests.factories import UserFactory, job_spec
from tests.validator.scripted_miner import complete, scripted_miner
from validator import driver
from validator.driver import DriverContext, organic_job_drive
from validator.miner_links import MinerLinks
from validator.models import FacilitatorOutbox, Miner, MinerDecline, MinerIncident, OrganicJob
from validator.selectors import organic_job_billed_seconds_by_miner
from validator.services.jobs import organic_job_receive

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_async_db", "fast_deadlines")]
SPEC = JobSpec(image="meshwork/job-python:3.11", args=["true"], executor_class="cpu.small", timeout_s=2)


async def _drive(make_hotkey, nonces, scripts, *, cancel=None, job_uuid=None):
    """Runs one job over miners following `scripts` (in routing order); returns the job row."""
    validator_key = make_hotkey()
    job_uuid = job_uuid or uuid.uuid4()
    await sync_to_async(organic_job_receive)(job_uuid=job_uuid, spec=SPEC)
    links = MinerLinks(hotkey=validator_key, nonces=nonces)
    miners = []
    async with AsyncExitStack() as stack:
        for i, script in enumerate(scripts):
            key = make_hotkey()
            address = await stack.enter_async_context(scripted_miner(key, script))
            # Fewer recent incidents route first; seed them so the order is the scripts' order.
            miner = await Miner.objects.acreate(hotkey=key.ss58, address=address, stake=1)
            for _ in range(i):
                await MinerIncident.objects.acreate(miner=miner, job_uuid=uuid.uuid4(), reason="seed")
            miners.append(key.ss58)
        await organic_job_drive(
            job_uuid=job_uuid, spec=SPEC, ctx=DriverContext(links=links), cancel=cancel or asyncio.Event()
        )
        await links.close_all()
    job = await OrganicJob.objects.select_related("miner").aget(uuid=job_uuid)
    events = [e async for e in job.events.order_by("id").values_list("status", "miner_hotkey", "detail")]
    return job, events, miners


async def stall_after_accept(ws, message):
    if isinstance(message, JobReserve):
        await complete(ws, message)  # accept, then never say anything again


async def lie_then_hang_up(ws, message):
    if isinstance(message, JobReserve):
        await complete(ws, message)
    elif isinstance(message, JobRun):
        # Progress for a job that is not this one, then garbage, then the connection drops.
        await ws.send(JobStarted(job_uuid=uuid.uuid4()).model_dump_json())
        await ws.send("{not json")
        await ws.close()


def decline(reason):
    async def script(ws, message):
        if isinstance(message, JobReserve):
            await ws.send(JobDeclined(job_uuid=message.job_uuid, reason=reason).model_dump_json())

    return script


def busy_then_free():
    calls = {"n": 0}

    async def script(ws, message):
        calls["n"] += 1
        if isinstance(message, JobReserve) and calls["n"] == 1:
            await ws.send(JobDeclined(job_uuid=message.job_uuid, reason=DeclineReason.BUSY).model_dump_json())
        else:
            await complete(ws, message)

    return script


async def test_honest_miner_completes_the_job(make_hotkey, nonces):
    job, events, miners = await _drive(make_hotkey, nonces, [complete])
    assert job.status == "completed"
    assert job.miner.hotkey == miners[0]
    assert job.attempts == 0
    assert [e[0] for e in events] == ["running", "completed"]


def runs_for(seconds, *, reported):
    """A miner that runs the job `seconds` (JobStarted to JobFinished) and claims `reported`."""

    async def script(ws, message):
        if isinstance(message, JobRun):
            for progress in (ExecutorReady, VolumeReady, JobStarted):
                await ws.send(progress(job_uuid=message.job_uuid).model_dump_json())
            await asyncio.sleep(seconds)
            result = JobResult(exit_code=0, executor_seconds=reported)
            await ws.send(JobFinished(job_uuid=message.job_uuid, result=result).model_dump_json())
        else:
            await complete(ws, message)

    return script


def _bill_upstream(job_uuid):
    """What the facilitator makes of this job's outbox: its cost, after every update is applied."""
    for row in FacilitatorOutbox.objects.filter(job_id=job_uuid).order_by("id"):
        update = JobStatusUpdate.model_validate(row.payload)
        job_apply_status_update(validator_hotkey="5Validator", update=update)
    return FacilitatorJob.objects.get(uuid=job_uuid)


def _funded_job(executor_classes):
    user = UserFactory.create()
    credits_grant(user=user, amount=FUNDED_CREDITS)
    return facilitator_job(user=user, executor_class="cpu.small", timeout_s=600)


@pytest.mark.parametrize(
    ("runs", "reported"),
    [
        (0.4, 3600.0),  # inflated: billed and scored what the validator saw
        (0.4, 0.25),  # honest (the container ran inside the observed span): kept
    ],
)
async def test_executor_seconds_are_bounded_by_what_the_validator_observed(
    make_hotkey, nonces, executor_classes, runs, reported
):
    upstream = await sync_to_async(_funded_job)(executor_classes)
    since = timezone.now()
    job, _, miners = await _drive(make_hotkey, nonces, [runs_for(runs, reported=reported)], job_uuid=upstream.uuid)
    assert (job.status, job.reported_seconds) == ("completed", reported)
    # Timed on the frames' arrival: the sleep, give or take the two frames' loopback delays.
    assert runs - 0.01 <= job.observed_seconds < runs + 0.3
    assert job.executor_seconds == min(reported, job.observed_seconds)
    # Scored: the validator's billed seconds per miner are the capped figure.
    billed = await sync_to_async(organic_job_billed_seconds_by_miner)(since=since)
    assert billed == {miners[0]: round(job.executor_seconds, 6)}
    # Billed: the facilitator charges the capped figure at the class price, below the hold.
    charged = await sync_to_async(_bill_upstream)(upstream.uuid)
    assert charged.executor_seconds == job.executor_seconds
    expected = (Decimal(str(job.executor_seconds)) * charged.price_per_second).quantize(Decimal("0.000001"))
    assert charged.cost == expected < charged.hold


async def test_a_stalled_miner_is_abandoned_at_its_deadline_and_the_job_reruns_elsewhere(make_hotkey, nonces):
    job, events, miners = await _drive(make_hotkey, nonces, [stall_after_accept, complete])
    assert job.status == "completed"
    assert job.miner.hotkey == miners[1]
    assert job.attempts == 1
    assert events[0][0] == "dispatched"
    assert "deadline_exceeded" in events[0][2]
    assert await MinerIncident.objects.filter(miner__hotkey=miners[0], reason="deadline_exceeded").aexists()


async def test_a_miner_that_lies_about_job_ids_and_hangs_up_counts_as_gone(make_hotkey, nonces):
    job, events, miners = await _drive(make_hotkey, nonces, [lie_then_hang_up, complete])
    assert job.status == "completed"
    assert job.miner.hotkey == miners[1]
    assert "miner_gone" in events[0][2]
    # The lie never reached the job's history: no "running" from the liar.
    assert ("running", miners[0]) not in [(e[0], e[1]) for e in events]


async def test_a_busy_miner_is_asked_again_without_costing_an_attempt(make_hotkey, nonces):
    job, events, _ = await _drive(make_hotkey, nonces, [busy_then_free()])
    assert job.status == "completed"
    assert job.attempts == 0
    assert [e[0] for e in events] == ["running", "completed"]
    assert [(d.reason, d.job_uuid) async for d in MinerDecline.objects.all()] == [("busy", job.uuid)]


async def test_every_miner_declining_for_good_rejects_the_job_without_blame(make_hotkey, nonces):
    scripts = [decline(DeclineReason.UNKNOWN_CLASS), decline(DeclineReason.BLACKLISTED)]
    job, _, miners = await _drive(make_hotkey, nonces, scripts)
    assert job.status == "rejected"
    assert job.failure_kind == "infrastructure"
    assert job.failure_reason == "no_capacity"
    assert not await MinerIncident.objects.exclude(reason="seed").aexists()
    # Every decline is kept, to judge "busy" claims by later.
    declines = [
        (d.miner.hotkey, d.job_uuid, d.executor_class, d.reason)
        async for d in MinerDecline.objects.select_related("miner").order_by("id")
    ]
    assert declines == [
        (miners[0], job.uuid, SPEC.executor_class, "unknown_executor_class"),
        (miners[1], job.uuid, SPEC.executor_class, "validator_blacklisted"),
    ]


async def test_infrastructure_failures_are_bounded_by_max_attempts(make_hotkey, nonces, settings):
    settings.VALIDATOR_MAX_ATTEMPTS = 2
    job, events, _ = await _drive(make_hotkey, nonces, [stall_after_accept, stall_after_accept, complete])
    assert job.status == "failed"
    assert job.attempts == 2
    assert job.failure_reason == "deadline_exceeded"
    assert "gave up after 2 infrastructure failures" in events[-1][2]


async def test_a_cancel_before_any_miner_starts_the_job_ends_it_cancelled(make_hotkey, nonces):
    cancel = asyncio.Event()
    cancel.set()
    job, events, _ = await _drive(make_hotkey, nonces, [complete], cancel=cancel)
    assert job.status == "cancelled"
    assert events == [("cancelled", "", "cancelled before a miner started it")]


async def test_driving_a_job_binds_its_uuid_for_every_log_line_and_only_inside(monkeypatch):
    seen: dict[str, object] = {}

    async def fake_drive(**kwargs):
        seen.update(structlog.contextvars.get_contextvars())

    monkeypatch.setattr(driver, "_drive", fake_drive)
    job_uuid = uuid.uuid4()
    await driver.organic_job_drive(job_uuid=job_uuid, spec=job_spec(), ctx=None, cancel=asyncio.Event())  # type: ignore[arg-type]
    assert seen["job_uuid"] == str(job_uuid)
    assert "job_uuid" not in structlog.contextvars.get_contextvars()


def fail_with(kind, reason):
    """Accepts and starts the job, then reports it failed with the given (claimed) kind and reason."""

    async def script(ws, message):
        if isinstance(message, JobRun):
            for progress in (ExecutorReady, VolumeReady, JobStarted):
                await ws.send(progress(job_uuid=message.job_uuid).model_dump_json())
            failure = Failure(kind=kind, reason=reason, detail="claimed")
            result = JobResult(exit_code=1, executor_seconds=0.5)
            await ws.send(JobFailed(job_uuid=message.job_uuid, failure=failure, result=result).model_dump_json())
        else:
            await complete(ws, message)

    return script


async def test_a_miner_calling_its_own_engine_failure_the_jobs_is_not_believed(make_hotkey, nonces):
    job, events, miners = await _drive(make_hotkey, nonces, [fail_with("job", "docker_error"), complete])
    assert job.status == "completed"
    assert job.miner.hotkey == miners[1]
    assert "docker_error" in events[1][2]  # the first attempt ended as an infrastructure failure


async def test_a_failure_of_the_jobs_own_making_stays_the_jobs_whatever_the_miner_claims(make_hotkey, nonces):
    job, _, miners = await _drive(make_hotkey, nonces, [fail_with("infrastructure", "output_too_large"), complete])
    assert job.status == "failed"
    assert (job.failure_kind, job.failure_reason) == ("job", "output_too_large")
    assert job.miner.hotkey == miners[0]
    assert job.attempts == 0
