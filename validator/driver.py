"""Drives one organic job to an end: pick a miner, run it there, and on an infrastructure
failure try another miner, a bounded number of times. Declines cost no attempt; a job every
miner is too busy for waits until one of our jobs of its class ends (`FreedSlots`), at most
VALIDATOR_BUSY_WAIT_S at a time (slots freed by other validators or by benchmarks wake no one)."""

import asyncio
import enum
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings

from executor.selectors import executor_class_list
from protocol.database import db_sync_to_async
from protocol.logs import bind_job
from protocol.messages.common import Failure, FailureKind, FailureReason, JobSpec, failure_kind
from protocol.messages.jobs import JobCancelled, JobFailed, JobFinished, JobStarted, JobStatus
from protocol.messages.miner import DeclineReason
from protocol.tunables import tunable
from validator.miner_links import MinerLinks
from validator.miner_session import (
    Declined,
    Ended,
    InfrastructureFailure,
    MinerTarget,
    Progress,
    run_on_miner,
)
from validator.selectors import miners_for_job
from validator.services.jobs import organic_job_attempt, organic_job_record
from validator.services.miners import miner_decline_record, miner_incident_record

logger = logging.getLogger(__name__)
# Declines after which the miner may take the job later: no executor free, or the free ones kept
# for other validators' shares (docs/market.md). Any other decline is for good, for this job.
WAIT_REASONS = frozenset({DeclineReason.BUSY, DeclineReason.OVER_SHARE})


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
    freed_on: str | None = None  # the miner whose freed slot woke us: asked first


async def organic_job_drive(*, job_uuid: UUID, spec: JobSpec, ctx: DriverContext, cancel: asyncio.Event) -> None:
    """Rounds over the known miners. A busy miner may be asked again next round (the job waits
    for a freed slot, up to VALIDATOR_QUEUE_TIMEOUT_S in all); one that declined for another
    reason or failed us is not asked again for this job. Infrastructure failures are bounded by
    VALIDATOR_MAX_ATTEMPTS."""
    with bind_job(job_uuid):  # this coroutine runs as its own task: the binding stays in it
        await _drive(job_uuid=job_uuid, spec=spec, ctx=ctx, cancel=cancel)


async def _drive(*, job_uuid: UUID, spec: JobSpec, ctx: DriverContext, cancel: asyncio.Event) -> None:
    tries = _Tries()
    deadline = time.monotonic() + tunable("VALIDATOR_QUEUE_TIMEOUT_S")
    freed = ctx.links.freed
    backoff = 0.1  # for when no miner is alive at all: one may come up any moment
    while tries.attempts < settings.VALIDATOR_MAX_ATTEMPTS:
        if cancel.is_set():
            await _record(
                ctx, job_uuid=job_uuid, status=JobStatus.CANCELLED, detail="cancelled before a miner started it"
            )
            return
        since = freed.generation(spec.executor_class)  # before the round: a slot freed during it counts
        price = await db_sync_to_async(_class_price)(spec.executor_class)
        candidates = _freed_first(await db_sync_to_async(miners_for_job)(exclude=tries.excluded), tries.freed_on)
        if not candidates and tries.excluded:
            break  # every miner we could ask has declined for good or failed us
        # No miner alive at all (none registered yet, heartbeats lapsed): wait like a busy round.
        if candidates:
            outcome = await _round(ctx, job_uuid, spec, candidates, cancel, tries, price)
        else:
            outcome = RoundOutcome.BUSY
        if outcome == RoundOutcome.DONE:
            return
        if outcome == RoundOutcome.BUSY:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if candidates:
                held = settings.VALIDATOR_BUSY_WAIT_S
            else:
                held, backoff = backoff, min(backoff * 2, settings.VALIDATOR_BUSY_WAIT_S)
            held *= random.uniform(1.0, 1.25)  # jobs that time out together do not ask in step
            tries.freed_on = await freed.wait(
                executor_class=spec.executor_class, since=since, timeout=min(held, left), cancel=cancel
            )
    await _give_up(ctx, job_uuid, tries.attempts, tries.last_failure)


async def _round(
    ctx: DriverContext,
    job_uuid: UUID,
    spec: JobSpec,
    candidates: list[Any],
    cancel: asyncio.Event,
    tries: _Tries,
    price: Decimal | None,
) -> RoundOutcome:
    busy = False
    for candidate in candidates:
        miner = MinerTarget(hotkey=candidate.hotkey, address=candidate.address)
        if price is not None and ctx.links.priced_out(
            miner_hotkey=miner.hotkey, executor_class=spec.executor_class, price=price
        ):
            tries.excluded.add(miner.hotkey)  # its manifest's floor is above the price: it would decline
            continue
        if ctx.links.known_full(miner_hotkey=miner.hotkey, executor_class=spec.executor_class):
            busy = True  # our own jobs fill it: wait for one of them to end instead of asking
            continue
        try:
            await _attempt(ctx, job_uuid, spec, miner, cancel)
        except Declined as exc:
            await db_sync_to_async(miner_decline_record)(
                hotkey=miner.hotkey, job_uuid=job_uuid, executor_class=spec.executor_class, reason=exc.message.reason
            )
            if exc.message.reason in WAIT_REASONS:
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
        return RoundOutcome.DONE  # recorded by `_attempt` as it ended (EndNotRecorded: propagates)
    return RoundOutcome.BUSY if busy else RoundOutcome.DECLINED


def _class_price(executor_class: str) -> Decimal | None:
    """The class's price per executor-second (None for a class we do not know: the miners say so)."""
    prices = executor_class_list().filter(name=executor_class).values_list("price_per_second", flat=True)
    return prices.first()


def _freed_first(candidates: list[Any], hotkey: str | None) -> list[Any]:
    """The routing order, but the miner that just freed a slot first: the others are likely full."""
    return sorted(candidates, key=lambda c: c.hotkey != hotkey) if hotkey else candidates


async def _note_infrastructure_failure(
    ctx: DriverContext, job_uuid: UUID, miner_hotkey: str, exc: InfrastructureFailure
) -> None:
    if exc.reason != FailureReason.PREEMPTED:  # giving a validator its share back is the market's rule, not a fault
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
) -> None:
    """Runs the job on `miner`; its end is recorded the moment it is known (before the receipt
    round trip), unless the miner failed us, which raises InfrastructureFailure after it."""

    async def on_progress(event: Progress, started: JobStarted | None) -> None:
        if event == Progress.CHARGED:  # an interval charge waits in the outbox
            ctx.notify()
        elif event == Progress.STARTED:
            ssh = started.ssh if started is not None and spec.rental is not None else None
            detail = "container started" if ssh is None else f"machine up: ssh -p {ssh.port} {ssh.user}@{ssh.host}"
            await _record(
                ctx, job_uuid=job_uuid, status=JobStatus.RUNNING, detail=detail, miner_hotkey=miner.hotkey, ssh=ssh
            )

    miners_fault: list[InfrastructureFailure] = []

    async def on_end(ended: Ended) -> None:
        terminal = ended.message
        if isinstance(terminal, JobFailed):
            failure = terminal.failure.model_copy(update={"kind": failure_kind(terminal.failure.reason)})
            if failure.kind == FailureKind.INFRASTRUCTURE:
                miners_fault.append(InfrastructureFailure(failure.reason, failure.detail))
                return
            ended = replace(ended, message=terminal.model_copy(update={"failure": failure}))
        await _record_terminal(ctx, job_uuid, miner.hotkey, ended)

    await run_on_miner(
        job_uuid=job_uuid,
        spec=spec,
        miner=miner,
        links=ctx.links,
        cancel=cancel,
        on_progress=on_progress,
        on_end=on_end,
    )
    if miners_fault:
        raise miners_fault[0]


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
