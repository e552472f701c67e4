"""One organic job's receipts on the miner link (docs/scoring.md, "Receipts on the wire"): the
signed reservation, the miner's acceptance countersigned back, an interval receipt every
VALIDATOR_RECEIPT_INTERVAL_S of running, the job_finished receipt at the end. Storing never
fails the job: a receipt that cannot be stored is logged and the job goes on."""

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from django.conf import settings

from protocol.database import db_sync_to_async
from protocol.keys import Hotkey
from protocol.messages.common import JobSpec
from protocol.messages.jobs import JobCancelled, JobFailed, JobFinished
from protocol.messages.miner import (
    RESERVATION_TTL_S,
    JobAccepted,
    ReceiptCountersign,
    ReceiptCountersigned,
    ReceiptOffer,
)
from protocol.receipts import (
    Crypto,
    IntervalPayload,
    JobFinishedPayload,
    JobKind,
    JobStartedPayload,
    ReceiptPayload,
    receipt_assemble,
    receipt_index,
    receipt_sign,
    signed_by,
)
from validator.miner_links import LinkLost, MinerLink
from validator.services.own_receipts import (
    accepted_refusal,
    billed_seconds,
    interval_receipt_store,
    own_receipts_store,
    terminal_outcome,
)

logger = logging.getLogger(__name__)
Offered = IntervalPayload | JobFinishedPayload
Terminal = JobFinished | JobFailed | JobCancelled


def started_payload(
    *, job_uuid: UUID, spec: JobSpec, validator: Hotkey, miner_hotkey: str, link: MinerLink
) -> JobStartedPayload:
    return JobStartedPayload(
        netuid=settings.CHAIN_NETUID,
        job_uuid=job_uuid,
        validator_hotkey=validator.ss58,
        validator_crypto=validator.crypto,
        miner_hotkey=miner_hotkey,
        miner_crypto=cast(Crypto, link.conn.peer_crypto),  # as the miner's handshake proved it
        executor_class=spec.executor_class,
        job_kind=JobKind.ORGANIC,
        at=datetime.now(UTC),
        timeout_s=spec.timeout_s,
        ttl_s=RESERVATION_TTL_S,
    )


class JobReceipts:
    def __init__(
        self,
        *,
        link: MinerLink,
        validator: Hotkey,
        started: JobStartedPayload,
        on_charge: Callable[[], Awaitable[None]],
    ) -> None:
        self.link = link
        self.validator = validator
        self.started = started
        self.started_signature = receipt_sign(started, validator)
        self.on_charge = on_charge  # an interval charge was queued for the facilitator
        self.accepted: JobAccepted | None = None
        # Offered, not yet countersigned: (kind, index) → (payload, our signature).
        self.pending: dict[tuple[str, int], tuple[Offered, str]] = {}
        self.finished_countersigned = asyncio.Event()
        self.stores: set[asyncio.Future[None]] = set()
        self.next_interval_at = math.inf  # monotonic; set once the job starts
        self.last_interval_at = 0.0
        self.interval_index = 0
        self.interval_total = 0.0

    @property
    def miner_hotkey(self) -> str:
        return self.started.miner_hotkey

    def _base(self) -> dict[str, Any]:
        fields = ("netuid", "job_uuid", "validator_hotkey", "validator_crypto", "miner_hotkey", "miner_crypto")
        base = {name: getattr(self.started, name) for name in fields}
        return base | {"executor_class": self.started.executor_class, "job_kind": self.started.job_kind}

    def accept(self, message: JobAccepted) -> str | None:
        """Why the miner's acceptance does not hold up, or None (and it is kept)."""
        refusal = accepted_refusal(
            started=self.started,
            countersignature=message.started_countersignature,
            accepted=message.accepted.payload,
            signature=message.accepted.signature,
        )
        if refusal is None:
            self.accepted = message
        return refusal

    async def countersign_accepted(self) -> None:
        """Send our signature on the miner's job_accepted receipt, store both reservation receipts."""
        assert self.accepted is not None
        accepted = self.accepted.accepted.payload
        signature = receipt_sign(accepted, self.validator)
        await self.link.send(ReceiptCountersign(job_uuid=accepted.job_uuid, signature=signature))
        started = receipt_assemble(
            self.started,
            validator_signature=self.started_signature,
            miner_signature=self.accepted.started_countersignature,
        )
        acc = receipt_assemble(
            accepted, validator_signature=signature, miner_signature=self.accepted.accepted.signature
        )
        self._spawn(self._store([(self.started, started), (accepted, acc)]))

    # --- intervals ------------------------------------------------------------------------

    def start_intervals(self, started: float) -> None:
        self.last_interval_at = started
        self.next_interval_at = started + settings.VALIDATOR_RECEIPT_INTERVAL_S

    def interval_due(self, now: float) -> bool:
        return now >= self.next_interval_at

    async def offer_interval(self, now: float) -> None:
        """Sign the interval just ended: the executor-seconds the validator saw in it (never more,
        over all intervals, than the job's timeout allows)."""
        seconds = max(0.0, min(now - self.last_interval_at, self.started.timeout_s - self.interval_total))
        self.interval_index += 1
        self.interval_total += seconds
        self.last_interval_at = now
        self.next_interval_at = now + settings.VALIDATOR_RECEIPT_INTERVAL_S
        payload = IntervalPayload(
            **self._base(), at=datetime.now(UTC), index=self.interval_index, seconds=round(seconds, 6)
        )
        await self._offer(payload)

    # --- the end --------------------------------------------------------------------------

    async def finish(self, message: Terminal, observed_seconds: float, started_at: datetime | None) -> None:
        """Offer the job_finished receipt and wait briefly for the miner's countersignature; a
        receipt left without it is stored anyway (miner_signature "": never served, never paid)."""
        payload = JobFinishedPayload(
            **self._base(),
            at=datetime.now(UTC),
            started_at=started_at,
            seconds=billed_seconds(result=message.result, observed_seconds=observed_seconds),
            outcome=terminal_outcome(message),
        )
        signature = await self._offer(payload)
        if signature is None:
            await self.drain()
            return
        deadline = time.monotonic() + settings.VALIDATOR_RECEIPT_COUNTERSIGN_WAIT_S
        queue = self.link.queues.get(payload.job_uuid)
        while queue is not None and not self.finished_countersigned.is_set():
            try:
                item = await asyncio.wait_for(queue.get(), max(deadline - time.monotonic(), 0.0))
            except TimeoutError:
                break
            if isinstance(item, Exception):
                break  # the link is gone: no countersignature will come
            if isinstance(item, ReceiptCountersigned):
                await self.countersigned(item)
        if not self.finished_countersigned.is_set():
            logger.warning("miner %s never countersigned job_finished of %s", self.miner_hotkey, payload.job_uuid)
            receipt = receipt_assemble(payload, validator_signature=signature, miner_signature="")
            await self._store([(payload, receipt)])
        await self.drain()

    # --- offers and countersignatures -----------------------------------------------------

    async def _offer(self, payload: Offered) -> str | None:
        signature = receipt_sign(payload, self.validator)
        self.pending[(payload.kind, receipt_index(payload))] = (payload, signature)
        try:
            await self.link.send(ReceiptOffer(payload=payload, signature=signature))
        except LinkLost:
            logger.warning("could not offer %s receipt of %s: link lost", payload.kind, payload.job_uuid)
            return None
        return signature

    async def countersigned(self, message: ReceiptCountersigned) -> None:
        entry = self.pending.get((message.kind, message.index))
        if entry is None:
            logger.warning("miner %s countersigned %s#%d never offered", self.miner_hotkey, message.kind, message.index)
            return
        payload, signature = entry
        if not signed_by(payload, signer="miner", signature=message.signature):
            logger.warning("miner %s: bad countersignature on %s#%d", self.miner_hotkey, message.kind, message.index)
            return
        del self.pending[(message.kind, message.index)]
        receipt = receipt_assemble(payload, validator_signature=signature, miner_signature=message.signature)
        if isinstance(payload, IntervalPayload):
            self._spawn(self._charge(payload, receipt))
            return
        self.finished_countersigned.set()
        await self._store([(payload, receipt)])

    async def _charge(self, payload: IntervalPayload, receipt: Any) -> None:
        charged = await self._guarded(
            interval_receipt_store, miner_hotkey=self.miner_hotkey, payload=payload, receipt=receipt
        )
        if charged:
            await self.on_charge()

    def _spawn(self, store: Awaitable[None]) -> None:
        """Stores run beside the job, so no message of the job waits behind a database trip (the
        validator's clock reads arrivals as it handles them); `finish` waits for them."""
        task = asyncio.ensure_future(store)
        self.stores.add(task)
        task.add_done_callback(self.stores.discard)

    async def drain(self) -> None:
        if self.stores:
            await asyncio.gather(*self.stores)

    async def _store(self, receipts: list[tuple[ReceiptPayload, Any]]) -> None:
        await self._guarded(own_receipts_store, miner_hotkey=self.miner_hotkey, receipts=receipts)

    async def _guarded(self, func: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return await db_sync_to_async(func)(**kwargs)
        except Exception:  # a receipt we cannot store must not fail the user's job
            logger.exception("storing receipts of %s failed", self.started.job_uuid)
            return None
