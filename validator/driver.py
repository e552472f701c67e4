"""Drives one organic job to an end: pick a miner, run it there, and on an infrastructure
failure try another miner, a bounded number of times. Declines cost no attempt."""

import asyncio
import enum
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from django.conf import settings

from protocol.database import db_sync_to_async
from protocol.logs import bind_job
from protocol.messages.common import Failure, FailureKind, FailureReason, JobSpec, failure_kind
from protocol.messages.jobs import JobCancelled, JobFailed, JobFinished, JobStatus
from protocol.messages.miner import DeclineReason
from validator.miner_links import MinerLinks
from validator.miner_session import Declined, Ended, InfrastructureFailure, MinerTarget, Progress, run_on_miner
from validator.selectors import miners_for_job
from validator.services.jobs import organic_job_attempt, organic_job_record
from validator.services.miners import miner_decline_record, miner_incident_record

logger = logging.getLogger(__name__)


class RoundOutcome(enum.StrEnum):
    """How one round over the candidate miners ended."""

    DONE = "done"  # the job ended (any terminal status)
    FAILED = "failed"  # a miner failed us: retry at once, elsewhere
    BUSY = "busy"  # someone may take it later: wait and ask again
    DECLINED = "declined"  # everyone asked declined for good


@dataclass
class DriverContext:
    links: MinerLinks
    notify: Callable[[], None] = lambda: None  # wakes the outbox flusher


async def _record(ctx: DriverContext, **kwargs: Any) -> None:
    await db_sync_to_async(organic_job_record)(**kwargs)
    ctx.notify()


@dataclass
class _Tries:
    excluded: set[str] = field(default_factory=set)
    attempts: int = 0
    last_failure: InfrastructureFailure | None = None


async def organic_job_drive(*, job_uuid: UUID, spec: JobSpec, ctx: DriverContext, cancel: asyncio.Event) -> None:
    """Rounds over the known miners. A busy miner may be asked again next round (the job waits,
    with backoff, up to VALIDATOR_QUEUE_TIMEOUT_S); one that declined for another reason or
    failed us is not asked again for this job. Infrastructure failures are bounded by
    VALIDATOR_MAX_ATTEMPTS."""
    with bind_job(job_uuid):  # this coroutine runs as its own task: the binding stays in it
        await _drive(job_uuid=job_uuid, spec=spec, ctx=ctx, cancel=cancel)


async def _drive(*, job_uuid: UUID, spec: JobSpec, ctx: DriverContext, cancel: asyncio.Event) -> None:
    tries = _Tries()
    deadline = time.monotonic() + settings.VALIDATOR_QUEUE_TIMEOUT_S
    backoff = 0.1
    while tries.attempts < settings.VALIDATOR_MAX_ATTEMPTS:
        if cancel.is_set():
            await _record(
                ctx, job_uuid=job_uuid, status=JobStatus.CANCELLED, detail="cancelled before a miner started it"
            )
            return
        candidates = await db_sync_to_async(miners_for_job)(exclude=tries.excluded)
        if not candidates and tries.excluded:
            break  # every miner we could ask has declined for good or failed us
        # No miner alive at all (none registered yet, heartbeats lapsed): wait like a busy round.
        if candidates:
            outcome = await _round(ctx, job_uuid, spec, candidates, cancel, tries)
        else:
            outcome = RoundOutcome.BUSY
        if outcome == RoundOutcome.DONE:
            return
        if outcome == RoundOutcome.BUSY:
            if time.monotonic() > deadline:
                break
            await _wait_or_cancel(cancel, backoff + random.uniform(0, backoff))
            backoff = min(backoff * 2, 2.0)
    await _give_up(ctx, job_uuid, tries.attempts, tries.last_failure)


async def _round(
    ctx: DriverContext, job_uuid: UUID, spec: JobSpec, candidates: list[Any], cancel: asyncio.Event, tries: _Tries
) -> RoundOutcome:
    busy = False
    for candidate in candidates:
        miner = MinerTarget(hotkey=candidate.hotkey, address=candidate.address)
        try:
            ended = await _attempt(ctx, job_uuid, spec, miner, cancel)
        except Declined as exc:
            await db_sync_to_async(miner_decline_record)(
                hotkey=miner.hotkey, job_uuid=job_uuid, executor_class=spec.executor_class, reason=exc.message.reason
            )
            if exc.message.reason == DeclineReason.BUSY:
                busy = True
            else:
                tries.excluded.add(miner.hotkey)
            continue
        except InfrastructureFailure as exc:
            tries.excluded.add(miner.hotkey)
            tries.attempts = await db_sync_to_async(organic_job_attempt)(job_uuid=job_uuid)
            tries.last_failure = exc
            await _note_infrastructure_failure(ctx, job_uuid, miner.hotkey, exc)
            return RoundOutcome.FAILED
        await _record_terminal(ctx, job_uuid, miner.hotkey, ended)
        return RoundOutcome.DONE
    return RoundOutcome.BUSY if busy else RoundOutcome.DECLINED


async def _wait_or_cancel(cancel: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(cancel.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def _note_infrastructure_failure(
    ctx: DriverContext, job_uuid: UUID, miner_hotkey: str, exc: InfrastructureFailure
) -> None:
    await db_sync_to_async(miner_incident_record)(hotkey=miner_hotkey, job_uuid=str(job_uuid), reason=exc.reason)
    await _record(
        ctx,
        job_uuid=job_uuid,
        status=JobStatus.DISPATCHED,
        detail=f"infrastructure failure on miner {miner_hotkey} ({exc.reason}); trying another miner",
        miner_hotkey=miner_hotkey,
    )


async def _attempt(
    ctx: DriverContext, job_uuid: UUID, spec: JobSpec, miner: MinerTarget, cancel: asyncio.Event
) -> Ended:
    async def on_progress(event: Progress, detail: str | None) -> None:
        if event == Progress.CHARGED:  # an interval charge waits in the outbox
            ctx.notify()
        elif event == Progress.STARTED:
            await _record(
                ctx, job_uuid=job_uuid, status=JobStatus.RUNNING, detail="container started", miner_hotkey=miner.hotkey
            )

    ended = await run_on_miner(
        job_uuid=job_uuid,
        spec=spec,
        miner=miner,
        links=ctx.links,
        cancel=cancel,
        on_progress=on_progress,
    )
    terminal = ended.message
    if isinstance(terminal, JobFailed):
        failure = terminal.failure.model_copy(update={"kind": failure_kind(terminal.failure.reason)})
        if failure.kind == FailureKind.INFRASTRUCTURE:
            raise InfrastructureFailure(failure.reason, failure.detail)
        ended = replace(ended, message=terminal.model_copy(update={"failure": failure}))
    return ended


async def _record_terminal(ctx: DriverContext, job_uuid: UUID, miner_hotkey: str, ended: Ended) -> None:
    terminal = ended.message
    failure = terminal.failure if isinstance(terminal, JobFailed) else None
    if isinstance(terminal, JobFinished):
        status, detail = JobStatus.COMPLETED, "exit code 0"
    elif isinstance(terminal, JobCancelled):
        status, detail = JobStatus.CANCELLED, "cancelled; container removed"
    else:
        assert failure is not None
        status = JobStatus.TIMEOUT if failure.reason == FailureReason.TIMEOUT else JobStatus.FAILED
        detail = f"{failure.reason}: {failure.detail}"
    await _record(
        ctx,
        job_uuid=job_uuid,
        status=status,
        detail=detail[:4000],
        miner_hotkey=miner_hotkey,
        result=terminal.result,
        observed_seconds=ended.observed_seconds,
        failure=failure,
    )


async def _give_up(ctx: DriverContext, job_uuid: UUID, attempts: int, last: InfrastructureFailure | None) -> None:
    if last is None:
        failure = Failure(
            kind=FailureKind.INFRASTRUCTURE, reason=FailureReason.NO_CAPACITY, detail="no miner accepted the job"
        )
        await _record(ctx, job_uuid=job_uuid, status=JobStatus.REJECTED, detail=failure.detail, failure=failure)
        return
    failure = Failure(
        kind=FailureKind.INFRASTRUCTURE,
        reason=last.reason,
        detail=f"gave up after {attempts} infrastructure failures; last: {last.detail}"[:4000],
    )
    await _record(ctx, job_uuid=job_uuid, status=JobStatus.FAILED, detail=failure.detail, failure=failure)
