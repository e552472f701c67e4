"""The validator interface: a validator reserves an executor, sends the job, and receives the
executor's progress until the job ends. One connection may carry several jobs, and benchmarks.
Right after the handshake the miner sends its manifest, and again whenever it changes."""

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar
from uuid import UUID

from pydantic import TypeAdapter

from executor.selectors import executor_class_limits
from miner.benchmarks.session import BenchmarkSession
from miner.models import AcceptedJob, ExecutorSlot
from miner.notify import MANIFEST_GROUP, PREEMPT_EVENT
from miner.selectors import share_standing, validator_refusal
from miner.services.jobs import Decline, job_finish, job_mark_running, job_reserve
from miner.services.manifest import manifest_publish
from miner.services.receipts import (
    ReceiptRefused,
    accepted_countersign_save,
    receipt_offer_countersign,
    reservation_receipts_store,
    started_refusal,
)
from miner.services.runner import executor_start
from protocol.consumer import SignedConsumer
from protocol.database import db_sync_to_async
from protocol.identity import node_hotkey
from protocol.messages.benchmarks import BenchmarkStart, OpenRequest
from protocol.messages.common import ErrorCode, ErrorMessage, Failure, FailureKind, FailureReason, JobResult
from protocol.messages.executor import ExecutorLimits, ExecutorRun
from protocol.messages.jobs import JobCancelled, JobFailed, JobFinished, JobStarted
from protocol.messages.manifest import ManifestMessage
from protocol.messages.miner import (
    RESERVATION_TTL_S,
    DeclineReason,
    JobAccepted,
    JobCancel,
    JobDeclined,
    JobReserve,
    JobRun,
    ReceiptCountersign,
    ReceiptCountersigned,
    ReceiptOffer,
    ShareStanding,
    ShareSubscribe,
    ValidatorToMiner,
)

logger = logging.getLogger(__name__)
TERMINAL = (JobFinished, JobFailed, JobCancelled)
# A changed share standing goes out at most this often (the last change always follows), so a
# busy link costs the database a few reads a second at most.
STANDING_MIN_INTERVAL_S = 5.0


@dataclass
class ActiveJob:
    slot: ExecutorSlot
    limits: ExecutorLimits
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    expiry: asyncio.TimerHandle | None = None
    bookkeeping: asyncio.Future[None] | None = None
    preempted: bool = False  # stopped to give another validator its share back (miner/services/share.py)


class ValidatorInterfaceConsumer(SignedConsumer[Any]):
    path = "/v1/miner/"
    incoming: ClassVar[TypeAdapter[Any]] = TypeAdapter(ValidatorToMiner)

    async def connect(self) -> None:
        self.jobs: dict[UUID, ActiveJob] = {}
        self.benchmarks: BenchmarkSession | None = None
        self.manifest_sent: ManifestMessage | None = None
        self.standing_wanted = False  # the validator sent `share.subscribe` (older ones never do)
        self.standing_sent: ShareStanding | None = None
        self.standing_next = 0.0  # loop time before which no standing is sent
        self.standing_due: asyncio.TimerHandle | None = None
        await super().connect()

    async def authorize(self, peer_hotkey: str) -> str | None:
        return await db_sync_to_async(validator_refusal)(peer_hotkey)

    async def on_authenticated(self) -> None:
        assert self.peer_hotkey is not None
        self.benchmarks = BenchmarkSession(
            validator_hotkey=self.peer_hotkey, send=self.send_message, owner=node_hotkey().ss58
        )
        # Joined before reading the manifest: a change published in between is pushed, not lost.
        await self.channel_layer.group_add(MANIFEST_GROUP, self.channel_name)
        manifest, _ = await db_sync_to_async(manifest_publish)()
        await self._send_manifest(manifest)

    async def miner_manifest(self, event: dict[str, Any]) -> None:
        """A changed manifest, pushed through the channel layer (miner.notify)."""
        await self._send_manifest(ManifestMessage.model_validate_json(event["payload"]))

    async def miner_preempt(self, event: dict[str, Any]) -> None:
        """A job of this link held beyond its validator's share is stopped for one within its share."""
        job_uuid = UUID(event["job_uuid"])
        active = self.jobs.get(job_uuid)
        if active is None or active.preempted:
            return
        logger.info("job %s of %s preempted: another validator wants its share back", job_uuid, self.peer_hotkey)
        active.preempted = True
        await self._cancel(job_uuid)

    async def _send_manifest(self, manifest: ManifestMessage) -> None:
        # The push of a manifest this link was just sent (published by its own handshake) is dropped.
        if manifest != self.manifest_sent:
            self.manifest_sent = manifest
            await self.send_message(manifest)

    async def _standing_changed(self) -> None:
        """Sends the validator's standing now, or once the interval since the last one is over."""
        if not self.standing_wanted or self.standing_due is not None:
            return  # not asked for, or a send is scheduled (it reads the standing then)
        loop = asyncio.get_running_loop()
        wait = self.standing_next - loop.time()
        if wait > 0:
            self.standing_due = loop.call_later(wait, lambda: asyncio.ensure_future(self._send_standing()))
            return
        await self._send_standing()

    async def _send_standing(self) -> None:
        assert self.peer_hotkey is not None
        self.standing_due = None
        self.standing_next = asyncio.get_running_loop().time() + STANDING_MIN_INTERVAL_S
        standing = ShareStanding(classes=await db_sync_to_async(share_standing)(validator_hotkey=self.peer_hotkey))
        if standing != self.standing_sent:
            self.standing_sent = standing
            try:
                await self.send_message(standing)
            except Exception as exc:  # the validator may be gone
                logger.info("could not send the share standing to %s: %r", self.peer_hotkey, exc)

    async def handle(self, message: Any) -> None:
        if isinstance(message, JobReserve):
            await self._reserve(message)
        elif isinstance(message, JobRun):
            await self._run(message)
        elif isinstance(message, JobCancel):
            await self._cancel(message.job_uuid)
        elif isinstance(message, ReceiptCountersign):
            await self._receipt_countersign(message)
        elif isinstance(message, ReceiptOffer):
            await self._receipt_offer(message)
        elif isinstance(message, ShareSubscribe):
            self.standing_wanted = True
            await self._standing_changed()
        elif isinstance(message, BenchmarkStart) and self.benchmarks is not None:
            await self.benchmarks.start(message)
        elif isinstance(message, OpenRequest) and self.benchmarks is not None:
            await self.benchmarks.open(message)
        elif isinstance(message, ErrorMessage):
            logger.warning("validator %s sent error %s: %s", self.peer_hotkey, message.code, message.detail)

    async def _reserve(self, message: JobReserve) -> None:
        assert self.peer_hotkey is not None
        try:
            slot, limits, accepted = await db_sync_to_async(_reserve_with_limits)(
                validator_hotkey=self.peer_hotkey, reserve=message
            )
        except Decline as exc:
            await self.send_message(JobDeclined(job_uuid=message.job_uuid, reason=exc.reason, detail=exc.detail))
            if exc.preempt is not None:  # whichever link holds the borrowed job stops it
                await self.channel_layer.group_send(
                    MANIFEST_GROUP, {"type": PREEMPT_EVENT, "job_uuid": str(exc.preempt)}
                )
            await self._standing_changed()  # a declined validator wants to know where it stands
            return
        active = ActiveJob(slot=slot, limits=limits)
        # A reservation the validator never follows up on must not hold the executor forever.
        active.expiry = asyncio.get_running_loop().call_later(
            RESERVATION_TTL_S, lambda: asyncio.ensure_future(self._expire(message.job_uuid))
        )
        self.jobs[message.job_uuid] = active
        await self.send_message(accepted)
        await self._standing_changed()
        if message.spec is not None:  # the payload came with the reservation: start at once
            await self._run(JobRun(job_uuid=message.job_uuid, spec=message.spec))

    async def _receipt_countersign(self, message: ReceiptCountersign) -> None:
        assert self.peer_hotkey is not None
        try:
            await db_sync_to_async(accepted_countersign_save)(
                job_uuid=message.job_uuid, validator_hotkey=self.peer_hotkey, signature=message.signature
            )
        except ReceiptRefused as exc:
            await self.send_message(ErrorMessage(code=ErrorCode.REFUSED, detail=str(exc)[:1000]))

    async def _receipt_offer(self, message: ReceiptOffer) -> None:
        assert self.peer_hotkey is not None
        try:
            signature = await db_sync_to_async(receipt_offer_countersign)(
                offer=message, validator_hotkey=self.peer_hotkey, own=node_hotkey()
            )
        except ReceiptRefused as exc:
            await self.send_message(ErrorMessage(code=ErrorCode.REFUSED, detail=str(exc)[:1000]))
            return
        payload = message.payload
        index = payload.index if payload.kind == "interval" else 0
        await self.send_message(
            ReceiptCountersigned(job_uuid=payload.job_uuid, kind=payload.kind, index=index, signature=signature)
        )

    async def _run(self, message: JobRun) -> None:
        active = self.jobs.get(message.job_uuid)
        if active is None or active.task is not None:
            await self.send_message(
                ErrorMessage(code=ErrorCode.UNEXPECTED, detail=f"job {message.job_uuid} is not reserved here")
            )
            return
        if message.spec.executor_class != active.slot.executor_class:
            await self.send_message(
                ErrorMessage(code=ErrorCode.UNEXPECTED, detail="executor class differs from reservation")
            )
            return
        if active.expiry:
            active.expiry.cancel()
        run = ExecutorRun(job_uuid=message.job_uuid, spec=message.spec, limits=active.limits)
        # Bookkeeping must not delay the container start: the status row is written alongside.
        active.bookkeeping = asyncio.ensure_future(db_sync_to_async(job_mark_running)(job_uuid=message.job_uuid))
        active.task = executor_start(
            run=run, docker_url=active.slot.host.docker_url, cancel=active.cancel, emit=self._relay
        )

    async def _relay(self, message: Any) -> None:
        """Executor → validator. Terminal messages also free the executor."""
        active = self.jobs.get(message.job_uuid)
        if isinstance(message, JobCancelled) and active is not None and active.preempted:
            message = _preempted(message.job_uuid, message.result)
        if isinstance(message, TERMINAL):
            await _record_end(message)
            self.jobs.pop(message.job_uuid, None)
        elif isinstance(message, JobStarted):
            logger.info("job %s started for %s", message.job_uuid, self.peer_hotkey)
        try:
            await self.send_message(message)
        except Exception as exc:  # the validator may be gone; the job's end is recorded regardless
            logger.warning("could not relay %s for %s: %r", type(message).__name__, message.job_uuid, exc)
        if isinstance(message, TERMINAL):
            await self._standing_changed()

    async def _cancel(self, job_uuid: UUID) -> None:
        active = self.jobs.get(job_uuid)
        if active is None:
            return
        if active.task is None:  # reserved, never started
            self.jobs.pop(job_uuid, None)
            if active.expiry:
                active.expiry.cancel()
            if active.preempted:
                await self._relay(_preempted(job_uuid, None))
                return
            await db_sync_to_async(job_finish)(job_uuid=job_uuid, status=AcceptedJob.Status.CANCELLED)
            await self.send_message(JobCancelled(job_uuid=job_uuid))
            return
        active.cancel.set()

    async def _expire(self, job_uuid: UUID) -> None:
        active = self.jobs.get(job_uuid)
        if active is not None and active.task is None:
            self.jobs.pop(job_uuid, None)
            await db_sync_to_async(job_finish)(
                job_uuid=job_uuid, status=AcceptedJob.Status.CANCELLED, reason=FailureReason.RESERVATION_EXPIRED
            )

    async def disconnect(self, code: int) -> None:
        # The validator is gone: nobody will collect results, so stop its jobs and free executors.
        if getattr(self, "standing_due", None) is not None:
            assert self.standing_due is not None
            self.standing_due.cancel()
        if getattr(self, "benchmarks", None) is not None:
            assert self.benchmarks is not None
            self.benchmarks.cancel_all()
            await self.channel_layer.group_discard(MANIFEST_GROUP, self.channel_name)
        for job_uuid, active in list(getattr(self, "jobs", {}).items()):
            if active.task is None:
                await self._expire(job_uuid)
            else:
                active.cancel.set()


def _reserve_with_limits(
    *, validator_hotkey: str, reserve: JobReserve
) -> tuple[ExecutorSlot, ExecutorLimits, JobAccepted]:
    """One trip to the database thread for everything a reservation needs: the signed
    reservation checked first (a bad one claims nothing), then the executor, then the receipts."""
    own = node_hotkey()
    refusal = started_refusal(reserve=reserve, validator_hotkey=validator_hotkey, own=own)
    if refusal is not None:
        raise Decline(DeclineReason.BAD_RECEIPT, refusal)
    _, slot = job_reserve(validator_hotkey=validator_hotkey, reserve=reserve)
    accepted = reservation_receipts_store(reserve=reserve, own=own)
    return slot, executor_class_limits(name=reserve.executor_class, active_only=False), accepted


def _preempted(job_uuid: UUID, result: JobResult | None) -> JobFailed:
    """The miner's side ended it (not the user, not the job): retried elsewhere and never billed."""
    detail = "preempted: the executor went back to a validator within its stake-proportional share"
    failure = Failure(kind=FailureKind.INFRASTRUCTURE, reason=FailureReason.PREEMPTED, detail=detail)
    return JobFailed(job_uuid=job_uuid, failure=failure, result=result)


async def _record_end(message: Any) -> None:
    result = getattr(message, "result", None)
    exit_code = result.exit_code if result else None
    seconds = result.executor_seconds if result else None
    if isinstance(message, JobFinished):
        status, reason = AcceptedJob.Status.FINISHED, ""
    elif isinstance(message, JobFailed):
        status, reason = AcceptedJob.Status.FAILED, message.failure.reason
    else:
        status, reason = AcceptedJob.Status.CANCELLED, ""
    await db_sync_to_async(job_finish)(
        job_uuid=message.job_uuid, status=status, exit_code=exit_code, seconds=seconds, reason=reason
    )
