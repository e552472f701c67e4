"""The validator's long-running process: a link to the facilitator (reconnecting with backoff
and jitter), one task per organic job, an outbox flusher that sends status updates (and interval
charges) in order, a catalogue offerer that hands the facilitator the signed catalogue this
validator applied, and a census reporter that tells it the executors per class claimed vs
verified after each finished benchmark run."""

import asyncio
import logging
import random
from typing import Any
from uuid import UUID

from django.conf import settings
from pydantic import TypeAdapter
from websockets.exceptions import WebSocketException

from executor.selectors import catalogue_envelope_get, catalogue_version_get
from protocol.buckets import inbound_guard
from protocol.database import db_sync_to_async
from protocol.dialer import PeerConnection, dial
from protocol.handshake import NonceStore
from protocol.keys import Hotkey
from protocol.messages.common import ErrorCode, ErrorMessage, JobSpec
from protocol.messages.facilitator import (
    CatalogueOffer,
    ExecutorCensus,
    FacilitatorToValidator,
    JobCancelRequest,
    JobRequest,
    ValidatorToFacilitator,
)
from protocol.messages.jobs import TERMINAL_STATUSES
from protocol.wire import ProtocolError
from validator.driver import DriverContext, organic_job_drive
from validator.miner_links import MinerLinks
from validator.selectors import outbox_pending
from validator.selectors.census import benchmark_run_last_finished, executor_census_build
from validator.services.jobs import (
    organic_job_receive,
    organic_job_request_cancel,
    organic_job_resend_last,
    organic_job_resume,
    outbox_mark_sent,
)
from validator.storage.dispatch import STORAGE_REQUESTS, StorageDispatch

logger = logging.getLogger(__name__)
FACILITATOR_PATH = "/v1/facilitator/"
_from_facilitator: TypeAdapter[object] = TypeAdapter(FacilitatorToValidator)
_outbox_payload: TypeAdapter[Any] = TypeAdapter(ValidatorToFacilitator)  # status updates, interval charges


class ValidatorNode:
    def __init__(
        self, *, ctx: DriverContext, hotkey: Hotkey, nonces: NonceStore, facilitator_url: str, facilitator_hotkey: str
    ) -> None:
        self.ctx = ctx
        self.hotkey = hotkey
        self.nonces = nonces
        ctx.notify = self.notify_outbox
        self.facilitator_url = facilitator_url
        self.facilitator_hotkey = facilitator_hotkey
        self.jobs: dict[UUID, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self.outbox_ready = asyncio.Event()
        self.storage = StorageDispatch(notify=self.notify_outbox)
        self.connected = asyncio.Event()
        self.census_refused = False  # this link's facilitator does not know `executor.census`

    async def run_forever(self) -> None:
        delay = 0.5
        while True:
            try:
                async with dial(
                    url=self.facilitator_url + FACILITATOR_PATH.lstrip("/"),
                    path=FACILITATOR_PATH,
                    hotkey=self.hotkey,
                    peer_hotkey=self.facilitator_hotkey,
                    nonces=self.nonces,
                ) as conn:
                    logger.info("connected to facilitator %s", self.facilitator_url)
                    delay = 0.5
                    await self._serve(conn)
            except (OSError, TimeoutError, WebSocketException, ProtocolError) as exc:
                logger.warning("facilitator link down (%s: %s); retrying in %.1fs", type(exc).__name__, exc, delay)
            self.connected.clear()
            await asyncio.sleep(delay + random.uniform(0, delay / 2))
            delay = min(delay * 2, 30.0)

    async def _serve(self, conn: PeerConnection) -> None:
        self.connected.set()
        self.outbox_ready.set()
        flusher = asyncio.create_task(self._flush_outbox(conn))
        offerer = asyncio.create_task(self._offer_catalogue(conn))
        self.census_refused = False
        census = asyncio.create_task(self._report_census(conn))
        guard = inbound_guard()
        try:
            while True:
                message = await conn.recv(_from_facilitator)
                if (flooded := guard.frame()) is not None:  # dropped; the link is dialed again after a backoff
                    await conn.drop(flooded)
                    raise ProtocolError(ErrorCode.RATE_LIMITED, f"facilitator {flooded}")
                await self.on_message(message)
        finally:
            flusher.cancel()
            offerer.cancel()
            census.cancel()

    async def on_message(self, message: object) -> None:
        if isinstance(message, JobRequest):
            await self.accept_job(message.job_uuid, message.spec)
        elif isinstance(message, JobCancelRequest):
            await self.cancel_job(message.job_uuid)
        elif isinstance(message, STORAGE_REQUESTS):
            self.storage.submit(message)
        elif isinstance(message, ErrorMessage):
            if message.code == ErrorCode.UNKNOWN_TYPE and "executor.census" in message.detail:
                # A facilitator from before the census: it goes on serving jobs; send it no more.
                self.census_refused = True
                logger.info("the facilitator does not know executor.census; not reporting it on this link")
                return
            logger.warning("facilitator error %s: %s", message.code, message.detail)

    async def accept_job(self, job_uuid: UUID, spec: JobSpec) -> None:
        if job_uuid in self.jobs and not self.jobs[job_uuid][0].done():
            return  # already driving it; the facilitator resends after reconnects
        job, created = await db_sync_to_async(organic_job_receive)(job_uuid=job_uuid, spec=spec)
        if job.status in TERMINAL_STATUSES:
            await db_sync_to_async(organic_job_resend_last)(job_uuid=job_uuid)
            self.outbox_ready.set()
            return
        if not created and await db_sync_to_async(organic_job_resume)(job_uuid=job_uuid):
            self.outbox_ready.set()  # no driver of ours has it: an earlier process was driving it
        cancel = asyncio.Event()
        if job.cancel_requested:
            cancel.set()
        task = asyncio.create_task(self._drive(job_uuid, spec, cancel))
        self.jobs[job_uuid] = (task, cancel)

    async def _drive(self, job_uuid: UUID, spec: JobSpec, cancel: asyncio.Event) -> None:
        try:
            await organic_job_drive(job_uuid=job_uuid, spec=spec, ctx=self.ctx, cancel=cancel)
        except Exception:
            logger.exception("driver for job %s crashed", job_uuid)
        finally:
            self.jobs.pop(job_uuid, None)
            self.outbox_ready.set()

    async def cancel_job(self, job_uuid: UUID) -> None:
        await db_sync_to_async(organic_job_request_cancel)(job_uuid=job_uuid)
        if job_uuid in self.jobs:
            self.jobs[job_uuid][1].set()

    def notify_outbox(self) -> None:
        self.outbox_ready.set()

    async def _flush_outbox(self, conn: PeerConnection) -> None:
        while True:
            await self.outbox_ready.wait()
            self.outbox_ready.clear()
            while rows := await db_sync_to_async(outbox_pending)():
                for row in rows:
                    await conn.send(_outbox_payload.validate_python(row.payload))
                await db_sync_to_async(outbox_mark_sent)(ids=[r.id for r in rows])

    async def _offer_catalogue(self, conn: PeerConnection) -> None:
        """Offer the applied catalogue once per link, and again whenever its version changes (the
        DHT sync applies new ones); a poll of one column every CATALOGUE_SYNC_S."""
        offered = -1
        while True:
            version = await db_sync_to_async(catalogue_version_get)()
            if version != offered:
                envelope = await db_sync_to_async(catalogue_envelope_get)()
                if envelope is not None:
                    await conn.send(CatalogueOffer(envelope=envelope))
                    logger.info("offered catalogue version %d to the facilitator", envelope.catalogue.version)
                offered = version
            await asyncio.sleep(settings.CATALOGUE_SYNC_S)

    async def _report_census(self, conn: PeerConnection) -> None:
        """The census once per link, and again after each newly finished benchmark run; a poll of
        one row every VALIDATOR_CENSUS_POLL_S. Nothing before a run finished."""
        reported: int | None = None
        while not self.census_refused:
            last = await db_sync_to_async(benchmark_run_last_finished)()
            if last is not None and last != reported:
                census: ExecutorCensus | None = await db_sync_to_async(executor_census_build)()
                if census is not None:
                    await conn.send(census)
                    logger.info("reported the executor census of run %d to the facilitator", census.cycle)
                reported = last
            await asyncio.sleep(settings.VALIDATOR_CENSUS_POLL_S)


def validator_node_from_settings(*, hotkey: Hotkey, nonces: NonceStore) -> ValidatorNode:
    if not settings.FACILITATOR_URL or not settings.FACILITATOR_HOTKEY:
        raise ValueError(
            "a validator needs FACILITATOR_URL (e.g. ws://facilitator:8000/) and FACILITATOR_HOTKEY "
            "(the facilitator's SS58 address)"
        )
    url = settings.FACILITATOR_URL if settings.FACILITATOR_URL.endswith("/") else settings.FACILITATOR_URL + "/"
    ctx = DriverContext(links=MinerLinks(hotkey=hotkey, nonces=nonces))
    return ValidatorNode(
        ctx=ctx, hotkey=hotkey, nonces=nonces, facilitator_url=url, facilitator_hotkey=settings.FACILITATOR_HOTKEY
    )
