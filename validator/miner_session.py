"""One job on one miner: reserve, send the payload, follow progress until a terminal message.

Every way the miner can fail us (refused connection, dropped link, silence past a stage deadline,
a frame that does not parse) ends as `InfrastructureFailure`, which the caller answers by trying
another miner. Links are shared between jobs (validator/miner_links.py).

The session also times the job itself: from the moment the miner's JobStarted arrives to the moment
its terminal message does (docs/architecture.md, "Executor-seconds are measured by the validator"),
and trades the job's receipts with the miner as it goes (validator/job_receipts.py; docs/scoring.md,
"Receipts on the wire")."""

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from websockets.exceptions import WebSocketException

from protocol.messages.common import FailureReason, JobSpec
from protocol.messages.jobs import ExecutorReady, JobCancelled, JobFailed, JobFinished, JobStarted, VolumeReady
from protocol.messages.miner import (
    JobAccepted,
    JobCancel,
    JobDeclined,
    JobReserve,
    JobRun,
    ReceiptCountersigned,
    SignedStarted,
)
from protocol.metrics import JOB_STAGE_SECONDS
from protocol.tunables import tunable
from protocol.wire import ProtocolError
from validator.job_receipts import JobReceipts, started_payload
from validator.miner_links import LinkLost, MinerLink, MinerLinks
from validator.rental_watch import BadEndpoint, RentalWatch, rental_endpoint_checked

logger = logging.getLogger(__name__)
Terminal = JobFinished | JobFailed | JobCancelled


class InfrastructureFailure(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class Declined(Exception):
    def __init__(self, message: JobDeclined) -> None:
        super().__init__(f"{message.reason}: {message.detail}")
        self.message = message


class Stage(enum.StrEnum):
    EXECUTOR = "executor_ready"
    VOLUME = "volume_ready"
    START = "started"
    RUN = "finished"


class Progress(enum.StrEnum):
    """What the session reports to its caller on the way to the terminal message."""

    ACCEPTED = "accepted"
    STARTED = "started"
    CHARGED = "charged"  # an interval receipt was stored and its charge queued for the facilitator


# STARTED comes with the miner's JobStarted (a rental's carries its SSH endpoint).
ProgressCallback = Callable[[Progress, JobStarted | None], Awaitable[None]]


@dataclass
class MinerTarget:
    hotkey: str
    address: str


@dataclass(frozen=True)
class Ended:
    """The miner's terminal message, and how long the validator saw the job run: monotonic time
    from JobStarted's arrival to the terminal message's (0 if JobStarted never came)."""

    message: Terminal
    observed_seconds: float
    started_at: datetime | None = None  # wall clock of JobStarted's arrival


EndCallback = Callable[[Ended], Awaitable[None]]


async def _no_end(ended: Ended) -> None:
    return None


class EndNotRecorded(Exception):
    """The job ended on the miner (and its receipts were traded) but the caller could not record
    the end: it must not be run again elsewhere, and it is not the miner's failure."""

    def __init__(self, ended: Ended) -> None:
        super().__init__(f"the end of the job ({type(ended.message).__name__}) could not be recorded")
        self.ended = ended


async def run_on_miner(
    *,
    job_uuid: UUID,
    spec: JobSpec,
    miner: MinerTarget,
    links: MinerLinks,
    cancel: asyncio.Event,
    on_progress: ProgressCallback,
    on_end: EndCallback = _no_end,
) -> Ended:
    """`on_end` records the job's end as soon as the terminal message is in, before the
    job_finished receipt's round trip, so the user sees the result (and the slot's next job
    starts) without waiting for it; if it raises, the receipts are still traded and
    `EndNotRecorded` follows."""
    try:
        link = await links.get(miner_hotkey=miner.hotkey, address=miner.address)
        try:
            receipts = await _reserve(link, links, job_uuid, spec, on_progress)
        except LinkLost:
            # A reused link may have died quietly since its last job: dial once more before
            # blaming the miner.
            link = await links.get(miner_hotkey=miner.hotkey, address=miner.address, fresh=True)
            receipts = await _reserve(link, links, job_uuid, spec, on_progress)
        slot = links.freed.hold(miner_hotkey=miner.hotkey, executor_class=spec.executor_class)
        try:
            await on_progress(Progress.ACCEPTED, None)
            if not pipelines(spec):
                await link.send(JobRun(job_uuid=job_uuid, spec=spec))
            await receipts.countersign_accepted()  # after the payload: the job is not delayed
            ended = await _follow(link, job_uuid, spec, cancel, on_progress, receipts, miner.address)
            slot.free()  # the miner freed the executor before it reported the end
            not_recorded = await _ended(on_end, ended)
            await receipts.finish(ended.message, ended.observed_seconds, ended.started_at)
            if not_recorded is not None:
                raise EndNotRecorded(ended) from not_recorded
            return ended
        except InfrastructureFailure:
            await _abandon(link, job_uuid)
            raise
        finally:
            link.unsubscribe(job_uuid)
            slot.free()  # however the session ended: a miner we abandoned was told to cancel
    except LinkLost as exc:
        raise InfrastructureFailure("miner_gone", str(exc)) from exc
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise InfrastructureFailure("miner_unreachable", f"{type(exc).__name__}: {exc}") from exc
    except ProtocolError as exc:
        raise InfrastructureFailure("miner_protocol_error", str(exc)) from exc


async def _ended(on_end: EndCallback, ended: Ended) -> Exception | None:
    try:
        await on_end(ended)
    except Exception as exc:  # the database, mostly: the miner's receipts must be traded all the same
        logger.exception("recording the end of job %s failed", ended.message.job_uuid)
        return exc
    return None


def pipelines(spec: JobSpec) -> bool:
    """Whether the payload rides with the reservation (saving a round trip before the container
    starts): only when a miner that declines learns nothing beyond the image and the command and
    carries nothing it would drop: no env (it may hold secrets), no input (an inline zip is
    large, a URL may embed a credential)."""
    return not spec.env and spec.input is None


async def _abandon(link: MinerLink, job_uuid: UUID) -> None:
    """We give up on a miner that missed a deadline or broke the protocol, and the job goes to
    another one: tell this one to stop, so a slow miner does not run the job a second time (and
    hold an executor for it) behind the retry. Best effort: the link may be gone already."""
    try:
        await link.send(JobCancel(job_uuid=job_uuid))
    except (LinkLost, OSError, WebSocketException) as exc:
        logger.info("could not cancel abandoned job %s on %s: %s", job_uuid, link.conn.peer_hotkey, exc)


async def _reserve(
    link: MinerLink, links: MinerLinks, job_uuid: UUID, spec: JobSpec, on_progress: ProgressCallback
) -> JobReceipts:
    """The reservation, signed into a job_started receipt; the miner's JobAccepted must
    countersign it and carry its own job_accepted receipt, else the miner broke the protocol."""
    started = started_payload(
        job_uuid=job_uuid, spec=spec, validator=links.hotkey, miner_hotkey=link.conn.peer_hotkey, link=link
    )
    receipts = JobReceipts(
        link=link,
        validator=links.hotkey,
        started=started,
        on_charge=lambda: on_progress(Progress.CHARGED, None),
    )
    link.subscribe(job_uuid)
    pipelined = pipelines(spec)
    try:
        signed = SignedStarted(payload=started, signature=receipts.started_signature)
        await link.send(
            JobReserve(
                job_uuid=job_uuid,
                executor_class=spec.executor_class,
                image=spec.image,
                timeout_s=spec.timeout_s,
                started=signed,
                spec=spec if pipelined else None,
            )
        )
        reply = await _recv(link, job_uuid, tunable("VALIDATOR_RESERVE_TIMEOUT_S"), "reservation")
        if isinstance(reply, JobDeclined):
            raise Declined(reply)
        if not isinstance(reply, JobAccepted):
            raise InfrastructureFailure("miner_protocol_error", f"expected accept/decline, got {type(reply).__name__}")
        refusal = receipts.accept(reply)
        if refusal is not None:
            raise InfrastructureFailure("miner_protocol_error", refusal)
    except InfrastructureFailure:
        if pipelined:  # the miner may have accepted (late, or forged) and started it already
            await _abandon(link, job_uuid)
        link.unsubscribe(job_uuid)
        raise
    except BaseException:
        link.unsubscribe(job_uuid)
        raise
    return receipts


async def _follow(
    link: MinerLink,
    job_uuid: UUID,
    spec: JobSpec,
    cancel: asyncio.Event,
    on_progress: ProgressCallback,
    receipts: JobReceipts,
    miner_address: str,
) -> Ended:
    """Every stage must make progress within its budget; a running job also gets an interval
    receipt every VALIDATOR_RECEIPT_INTERVAL_S (monotonic) from JobStarted on, and a running
    rental a check of its SSH banner (validator/rental_watch.py)."""
    leeway = tunable("VALIDATOR_STAGE_LEEWAY_S")
    budgets = {
        Stage.EXECUTOR: leeway,
        Stage.VOLUME: settings.EXECUTOR_URL_FETCH_TIMEOUT_S + leeway,
        Stage.START: leeway,
        Stage.RUN: spec.timeout_s + leeway,
    }
    stage = Stage.EXECUTOR
    budget = budgets[stage]
    stage_since = time.monotonic()  # when the current stage began: its duration is a metric
    stage_deadline = stage_since + budget
    cancel_sent = False
    started: float | None = None  # monotonic arrival of JobStarted
    started_at: datetime | None = None  # and its wall clock, for the job_finished receipt
    watch: RentalWatch | None = None
    while True:
        if cancel.is_set() and not cancel_sent:
            await link.send(JobCancel(job_uuid=job_uuid))
            cancel_sent = True
            budget, stage_deadline = leeway, time.monotonic() + leeway
        now = time.monotonic()
        if receipts.interval_due(now):
            await receipts.offer_interval(now)
            continue
        if watch is not None and not cancel_sent and watch.due(now):
            if (gone := await watch.check()) is not None:
                raise InfrastructureFailure(FailureReason.RENTAL_UNREACHABLE, gone)
            continue
        if now >= stage_deadline:
            raise InfrastructureFailure("deadline_exceeded", f"no {stage} within {budget:.0f}s")
        wait = min(stage_deadline, receipts.next_interval_at, watch.next_at if watch else stage_deadline) - now
        message = await _recv_or_cancel(link, job_uuid, wait, cancel, cancel_sent)
        if message is None or message is _QUIET:
            continue
        if isinstance(message, JobFinished | JobFailed | JobCancelled):
            observed = 0.0 if started is None else max(0.0, link.arrival(job_uuid, message.type) - started)
            if started is not None and isinstance(message, JobFinished):  # the run, on arrival clocks
                JOB_STAGE_SECONDS.labels(role="validator", stage=Stage.RUN).observe(observed)
            return Ended(message=message, observed_seconds=observed, started_at=started_at)
        if isinstance(message, ReceiptCountersigned):
            await receipts.countersigned(message)
            continue  # not progress: the stage's deadline stands
        ended = stage
        if isinstance(message, ExecutorReady):
            stage = Stage.VOLUME
        elif isinstance(message, VolumeReady):
            stage = Stage.START
        elif isinstance(message, JobStarted):
            if started is None:  # a repeated JobStarted must not restart the clock
                started = link.arrival(job_uuid, message.type)  # when it arrived, not when read
                started_at = datetime.now(UTC) - timedelta(seconds=time.monotonic() - started)
                receipts.start_intervals(started)
                if spec.rental is not None:
                    watch = _watch(message, miner_address)
            stage = Stage.RUN
            await on_progress(Progress.STARTED, message)
        else:
            raise InfrastructureFailure("miner_protocol_error", f"unexpected {type(message).__name__}")
        if stage is not ended:  # the stage `ended` waited for has been reached
            JOB_STAGE_SECONDS.labels(role="validator", stage=ended).observe(time.monotonic() - stage_since)
            stage_since = time.monotonic()
        budget = leeway if cancel_sent else budgets[stage]
        stage_deadline = time.monotonic() + budget


def _watch(started: JobStarted, miner_address: str) -> RentalWatch:
    try:
        endpoint = rental_endpoint_checked(started, miner_address=miner_address)
    except BadEndpoint as exc:
        raise InfrastructureFailure("miner_protocol_error", str(exc)) from exc
    return RentalWatch(endpoint, now=time.monotonic())


_QUIET = object()  # nothing arrived within the wait


async def _recv_or_cancel(
    link: MinerLink, job_uuid: UUID, wait: float, cancel: asyncio.Event, cancel_sent: bool
) -> Any:
    """The next message; `_QUIET` if none came within `wait`; None when a cancel request arrives
    first (so it can be forwarded)."""
    recv = asyncio.ensure_future(_next(link, job_uuid, wait))
    if cancel_sent:
        return await recv
    waiter = asyncio.ensure_future(cancel.wait())
    done, _ = await asyncio.wait({recv, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if recv in done:
        waiter.cancel()
        return recv.result()
    recv.cancel()
    return None


async def _next(link: MinerLink, job_uuid: UUID, wait: float) -> Any:
    try:
        return await _recv(link, job_uuid, wait, "")
    except InfrastructureFailure as exc:
        if exc.reason == "deadline_exceeded":
            return _QUIET
        raise


async def _recv(link: MinerLink, job_uuid: UUID, budget: float, stage: str) -> Any:
    queue = link.queues.get(job_uuid)
    if queue is None:
        raise LinkLost("not subscribed")
    try:
        item = await asyncio.wait_for(queue.get(), max(budget, 0.0))
    except TimeoutError as exc:
        raise InfrastructureFailure("deadline_exceeded", f"no {stage} within {budget:.0f}s") from exc
    if isinstance(item, Exception):
        raise item
    return item
