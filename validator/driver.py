"""Drives one organic job to an end: pick a miner, run it there, and on an infrastructure
failure try another miner, a bounded number of times. Declines cost no attempt."""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from asgiref.sync import sync_to_async
from django.conf import settings

from protocol.handshake import NonceStore
from protocol.keys import Hotkey
from protocol.messages.common import Failure, FailureKind, JobSpec
from protocol.messages.jobs import JobCancelled, JobFailed, JobFinished, JobStatus
from validator.miner_session import Declined, InfrastructureFailure, MinerTarget, Terminal, run_on_miner
from validator.services.jobs import organic_job_attempt, organic_job_record
from validator.services.miners import miner_incident_record, miners_for_job

log = logging.getLogger(__name__)


@dataclass
class DriverContext:
    hotkey: Hotkey
    nonces: NonceStore
    notify: Callable[[], None] = lambda: None  # wakes the outbox flusher


async def _record(ctx: DriverContext, **kwargs: Any) -> None:
    await sync_to_async(organic_job_record)(**kwargs)
    ctx.notify()


async def organic_job_drive(*, job_uuid: UUID, spec: JobSpec, ctx: DriverContext, cancel: asyncio.Event) -> None:
    tried: set[str] = set()
    attempts = 0
    last_failure: InfrastructureFailure | None = None
    while attempts < settings.VALIDATOR_MAX_ATTEMPTS:
        if cancel.is_set():
            await _record(ctx, job_uuid=job_uuid, status=JobStatus.CANCELLED, detail="cancelled before a miner started it")
            return
        candidates = await sync_to_async(miners_for_job)(exclude=tried)
        if not candidates:
            break
        miner = MinerTarget(hotkey=candidates[0].hotkey, address=candidates[0].address)
        tried.add(miner.hotkey)
        try:
            terminal = await _attempt(job_uuid, spec, miner, ctx, cancel)
        except Declined as exc:
            log.info("job %s declined by %s: %s", job_uuid, miner.hotkey, exc)
            continue
        except InfrastructureFailure as exc:
            attempts = await sync_to_async(organic_job_attempt)(job_uuid=job_uuid)
            last_failure = exc
            await sync_to_async(miner_incident_record)(hotkey=miner.hotkey, job_uuid=str(job_uuid), reason=exc.reason)
            await _record(ctx, 
                job_uuid=job_uuid,
                status=JobStatus.DISPATCHED,
                detail=f"infrastructure failure on miner {miner.hotkey} ({exc.reason}); trying another miner",
                miner_hotkey=miner.hotkey,
            )
            continue
        await _record_terminal(ctx, job_uuid, miner.hotkey, terminal)
        return
    await _give_up(ctx, job_uuid, attempts, last_failure)


async def _attempt(
    job_uuid: UUID, spec: JobSpec, miner: MinerTarget, ctx: DriverContext, cancel: asyncio.Event
) -> Terminal:
    async def on_progress(event: str, detail: str | None) -> None:
        if event == "started":
            await _record(ctx, 
                job_uuid=job_uuid, status=JobStatus.RUNNING, detail="container started", miner_hotkey=miner.hotkey
            )

    terminal = await run_on_miner(
        job_uuid=job_uuid,
        spec=spec,
        miner=miner,
        hotkey=ctx.hotkey,
        nonces=ctx.nonces,
        cancel=cancel,
        on_progress=on_progress,
    )
    if isinstance(terminal, JobFailed) and terminal.failure.kind == FailureKind.INFRASTRUCTURE:
        raise InfrastructureFailure(terminal.failure.reason, terminal.failure.detail)
    return terminal


async def _record_terminal(ctx: DriverContext, job_uuid: UUID, miner_hotkey: str, terminal: Terminal) -> None:
    if isinstance(terminal, JobFinished):
        await _record(ctx, 
            job_uuid=job_uuid,
            status=JobStatus.COMPLETED,
            detail="exit code 0",
            miner_hotkey=miner_hotkey,
            result=terminal.result,
        )
    elif isinstance(terminal, JobCancelled):
        await _record(ctx, 
            job_uuid=job_uuid,
            status=JobStatus.CANCELLED,
            detail="cancelled; container removed",
            miner_hotkey=miner_hotkey,
            result=terminal.result,
        )
    elif isinstance(terminal, JobFailed):
        status = JobStatus.TIMEOUT if terminal.failure.reason == "timeout" else JobStatus.FAILED
        await _record(ctx, 
            job_uuid=job_uuid,
            status=status,
            detail=f"{terminal.failure.reason}: {terminal.failure.detail}"[:4000],
            miner_hotkey=miner_hotkey,
            result=terminal.result,
            failure=terminal.failure,
        )


async def _give_up(ctx: DriverContext, job_uuid: UUID, attempts: int, last: InfrastructureFailure | None) -> None:
    if last is None:
        failure = Failure(kind=FailureKind.INFRASTRUCTURE, reason="no_capacity", detail="no miner accepted the job")
        await _record(ctx, job_uuid=job_uuid, status=JobStatus.REJECTED, detail=failure.detail, failure=failure)
        return
    failure = Failure(
        kind=FailureKind.INFRASTRUCTURE,
        reason=last.reason,
        detail=f"gave up after {attempts} infrastructure failures; last: {last.detail}"[:4000],
    )
    await _record(ctx, job_uuid=job_uuid, status=JobStatus.FAILED, detail=failure.detail, failure=failure)
