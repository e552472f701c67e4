"""Authenticated, long-lived connections to miners, shared by the jobs sent to each miner.

A job no longer pays a TCP connect and a signed handshake (tens of milliseconds) each time. One
reader task per link routes incoming frames to the job they name; when the link drops, every job
on it is told at once (`LinkLost`), which the driver treats as the miner failing."""

import asyncio
import logging
import time
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter
from websockets.exceptions import ConnectionClosed

from protocol.buckets import inbound_guard
from protocol.database import db_sync_to_async
from protocol.dialer import PeerConnection, dial_open
from protocol.handshake import NonceStore
from protocol.keys import Hotkey
from protocol.messages.benchmarks import BenchmarkFailed, MatmulCommit, MatmulOpening, PowAnswer
from protocol.messages.common import ErrorMessage
from protocol.messages.manifest import ManifestMessage
from protocol.messages.miner import MinerToValidator, ShareStanding, ShareSubscribe
from protocol.tls import peer_ws_url
from protocol.tunables import tunable
from protocol.wire import ProtocolError
from validator.services.miners import miner_share_record

logger = logging.getLogger(__name__)
MINER_PATH = "/v1/miner/"
_from_miner: TypeAdapter[Any] = TypeAdapter(MinerToValidator)
BENCH_ANSWERS = (PowAnswer, MatmulCommit, MatmulOpening, BenchmarkFailed)
# Answers waiting to be read by a cycle: beyond this the miner is flooding us and the rest is dropped.
MAX_QUEUED_ANSWERS = 4096
# Frames of one job its session has not read yet: a job has a handful (accepted, started, receipts,
# the end), so beyond this the miner floods and the link is dropped (its jobs fail over elsewhere).
MAX_QUEUED_PER_JOB = 1024
TIMED = frozenset({"job.started", "job.finished", "job.failed", "job.cancelled"})  # frames timed on arrival


class LinkLost(Exception):
    """The connection to the miner closed or sent something unreadable."""


class MinerLink:
    def __init__(self, conn: PeerConnection) -> None:
        self.conn = conn
        self.queues: dict[UUID, asyncio.Queue[Any]] = {}
        # The miner's latest manifest (sent after the handshake and when it changes).
        self.manifest: ManifestMessage | None = None
        self.manifest_received = asyncio.Event()
        self.last_refused = ""  # why the last frame we could not read was refused
        self.dropped = False  # by us, for flooding: closed (or closing), never reused
        # Benchmark answers with their arrival time (monotonic), taken here so that verifying
        # one answer never delays the clock of another.
        self.answers: asyncio.Queue[tuple[float, Any] | Exception] = asyncio.Queue()
        # When each subscribed job's first JobStarted and first terminal frame arrived (monotonic),
        # taken here for the same reason: the job's observed seconds never depend on how soon its
        # session got to read them.
        self.arrived: dict[tuple[UUID, str], float] = {}
        # Where we stand in the miner's stake-proportional split (docs/market.md), as last sent.
        self.standing: ShareStanding | None = None
        self.saving: set[asyncio.Task[None]] = set()  # standings being stored (held: not collected)
        self.reader = asyncio.create_task(self._read())

    @property
    def open(self) -> bool:
        return not self.reader.done() and not self.dropped

    def subscribe(self, job_uuid: UUID) -> asyncio.Queue[Any]:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        if not self.open:
            queue.put_nowait(LinkLost("link closed"))
        self.queues[job_uuid] = queue
        return queue

    def unsubscribe(self, job_uuid: UUID) -> None:
        self.queues.pop(job_uuid, None)
        for kind in TIMED:
            self.arrived.pop((job_uuid, kind), None)

    def arrival(self, job_uuid: UUID, kind: str) -> float:
        """When the first `kind` frame of the job arrived (now, if it was never time-stamped)."""
        return self.arrived.get((job_uuid, kind), time.monotonic())

    async def send(self, message: Any) -> None:
        try:
            await self.conn.send(message)
        except ConnectionClosed as exc:
            raise LinkLost(f"connection closed: {exc}") from exc

    async def close(self) -> None:
        self.reader.cancel()
        await self.conn.ws.close()

    async def _read(self) -> None:
        reason: Exception = LinkLost("link closed")
        guard = inbound_guard()
        flooded: str | None = None
        try:
            while flooded is None:
                try:
                    message = await self.conn.recv(_from_miner)
                except ProtocolError as exc:
                    logger.warning("miner %s sent a bad frame: %s", self.conn.peer_hotkey, exc)
                    self.last_refused = str(exc)[:1000]
                    flooded = guard.frame() or guard.bad_frame(str(exc))
                    continue
                flooded = guard.frame() or self._route(message)
        except ConnectionClosed as exc:
            reason = LinkLost(f"connection closed: {exc}")
        finally:
            if flooded is not None:
                logger.warning("dropping the link to miner %s: %s", self.conn.peer_hotkey, flooded)
                self.dropped = True
                self.last_refused = flooded
                reason = LinkLost(f"miner dropped: {flooded}")
            for queue in self.queues.values():
                queue.put_nowait(reason)
            self.answers.put_nowait(reason)
            self.manifest_received.set()  # nobody waits forever for a manifest from a dead link
        if flooded is not None:  # closed after the jobs were told: a flooder is slow to acknowledge
            await self.conn.drop(flooded)

    def _route(self, message: Any) -> str | None:
        """Hand one frame to whoever waits for it; a reason to drop the link if the miner floods."""
        if isinstance(message, ErrorMessage):
            logger.warning("miner %s: %s %s", self.conn.peer_hotkey, message.code, message.detail)
        elif isinstance(message, ManifestMessage):
            self.manifest = message
            self.manifest_received.set()
        elif isinstance(message, ShareStanding):
            self.standing = message
            self._store_standing(message)
        elif isinstance(message, BENCH_ANSWERS):
            if self.answers.qsize() < MAX_QUEUED_ANSWERS:
                self.answers.put_nowait((time.monotonic(), message))
        elif (queue := self.queues.get(message.job_uuid)) is None:
            logger.info("miner %s reported on job %s that is not ours", self.conn.peer_hotkey, message.job_uuid)
        elif queue.qsize() >= MAX_QUEUED_PER_JOB:
            return f"over {MAX_QUEUED_PER_JOB} unread frames for job {message.job_uuid}"
        else:
            if message.type in TIMED:
                self.arrived.setdefault((message.job_uuid, message.type), time.monotonic())
            queue.put_nowait(message)
        return None

    def _store_standing(self, standing: ShareStanding) -> None:
        """On the Miner row, for the API and the admin; the miner sends one every few seconds at most."""
        hotkey = self.conn.peer_hotkey
        task = asyncio.ensure_future(db_sync_to_async(miner_share_record)(hotkey=hotkey, standing=standing))
        self.saving.add(task)
        task.add_done_callback(self.saving.discard)


class FreedSlots:
    """Wakes the jobs waiting for a busy miner when one of our jobs of their executor class ends
    (the miner frees the executor before it reports the end), oldest waiter first, one per freed
    slot, instead of having them poll with sleeps. A generation count per class lets a job that
    was busy-declined while a slot freed retry at once, not wait for the next one.

    It also counts the executors our jobs hold per miner and class, so a miner whose manifest
    they fill is not asked (and made to decline) at all."""

    def __init__(self) -> None:
        self.generations: dict[str, int] = {}
        self.waiters: dict[str, list[asyncio.Future[str]]] = {}
        self.held: dict[tuple[str, str], int] = {}  # (miner hotkey, class) → our jobs there

    def generation(self, executor_class: str) -> int:
        return self.generations.get(executor_class, 0)

    def holding(self, *, miner_hotkey: str, executor_class: str) -> int:
        return self.held.get((miner_hotkey, executor_class), 0)

    def hold(self, *, miner_hotkey: str, executor_class: str) -> "HeldSlot":
        """One of our jobs was accepted on the miner: it holds an executor until `free()`."""
        key = (miner_hotkey, executor_class)
        self.held[key] = self.held.get(key, 0) + 1
        return HeldSlot(self, miner_hotkey, executor_class)

    def release(self, *, executor_class: str, miner_hotkey: str) -> None:
        """A slot of `executor_class` just freed on `miner_hotkey`: wake the oldest waiter."""
        self.generations[executor_class] = self.generation(executor_class) + 1
        self._wake_one(executor_class, miner_hotkey)

    def _wake_one(self, executor_class: str, miner_hotkey: str) -> None:
        waiters = self.waiters.get(executor_class, [])
        while waiters:
            waiter = waiters.pop(0)
            if not waiter.done():
                waiter.set_result(miner_hotkey)
                return

    async def wait(self, *, executor_class: str, since: int, timeout: float, cancel: asyncio.Event) -> str | None:
        """The hotkey of the miner whose slot freed (None: any, or freed before we waited); returns
        without one after `timeout` or when `cancel` is set. A wake-up this waiter received but
        cannot use (it was cancelled) is handed on to the next waiter."""
        if self.generation(executor_class) != since:
            return None
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(executor_class, []).append(waiter)
        cancelled: asyncio.Future[Any] = asyncio.ensure_future(cancel.wait())
        try:
            await asyncio.wait((waiter, cancelled), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancelled.cancel()
            if waiter in self.waiters.get(executor_class, []):
                self.waiters[executor_class].remove(waiter)
        if not waiter.done():
            waiter.cancel()
            return None
        if cancel.is_set():
            self._wake_one(executor_class, waiter.result())
            return None
        return waiter.result()


class HeldSlot:
    def __init__(self, slots: FreedSlots, miner_hotkey: str, executor_class: str) -> None:
        self.slots = slots
        self.miner_hotkey = miner_hotkey
        self.executor_class = executor_class
        self.freed = False

    def free(self) -> None:
        """Once only (the job's end, or whatever way its session ends): count it off, wake a waiter."""
        if self.freed:
            return
        self.freed = True
        key = (self.miner_hotkey, self.executor_class)
        self.slots.held[key] = max(0, self.slots.held.get(key, 0) - 1)
        self.slots.release(executor_class=self.executor_class, miner_hotkey=self.miner_hotkey)


class MinerLinks:
    """At most one link per miner hotkey, dialed on first use and again after it drops; and the
    slots our jobs free on them (`freed`), which wake the jobs waiting for a busy miner."""

    def __init__(self, *, hotkey: Hotkey, nonces: NonceStore) -> None:
        self.hotkey = hotkey
        self.nonces = nonces
        self.freed = FreedSlots()
        self.links: dict[str, MinerLink] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    async def get(self, *, miner_hotkey: str, address: str, fresh: bool = False) -> MinerLink:
        async with self.locks.setdefault(miner_hotkey, asyncio.Lock()):
            link = self.links.get(miner_hotkey)
            if link is not None and link.open and not fresh:
                return link
            if link is not None:
                await link.close()
            conn = await dial_open(
                url=peer_ws_url(address, MINER_PATH),
                path=MINER_PATH,
                hotkey=self.hotkey,
                peer_hotkey=miner_hotkey,
                nonces=self.nonces,
                timeout=tunable("VALIDATOR_RESERVE_TIMEOUT_S"),
            )
            link = self.links[miner_hotkey] = MinerLink(conn)
            await link.send(ShareSubscribe())  # an old miner answers UNKNOWN_TYPE, which is only logged
            return link

    def priced_out(self, *, miner_hotkey: str, executor_class: str, price: Decimal) -> bool:
        """The miner's manifest sets a floor for the class above `price`: it would decline the job
        `unprofitable`, so it is not asked. Unknown (no link or manifest yet): not priced out."""
        link = self.links.get(miner_hotkey)
        return (
            link is not None
            and link.manifest is not None
            and link.manifest.priced_out(executor_class=executor_class, price=price)
        )

    def known_full(self, *, miner_hotkey: str, executor_class: str) -> bool:
        """Our own jobs fill every executor of the class the miner's manifest claims (so asking
        would only earn a busy decline). Unknown (no link or manifest yet, or a class the manifest
        lacks, which the miner should decline for what it is): not full."""
        link = self.links.get(miner_hotkey)
        if link is None or link.manifest is None:
            return False
        capacity = link.manifest.totals().get(executor_class, 0)
        held = self.freed.holding(miner_hotkey=miner_hotkey, executor_class=executor_class)
        return capacity > 0 and held >= capacity

    async def close_all(self) -> None:
        for link in self.links.values():
            await link.close()
        self.links.clear()
