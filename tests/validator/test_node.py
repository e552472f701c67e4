"""The validator node against a facilitator played over a real websocket with the real signed
handshake: it dials again with backoff when the link drops, delivers what it owes in order and
exactly once after reconnecting, runs a job the facilitator sends twice only once, and offers the
catalogue it applied on every link and whenever its version changes."""

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from pydantic import Field, TypeAdapter
from websockets.asyncio.server import ServerConnection, serve

import validator.node
from executor.services.catalogue import catalogue_apply, catalogue_build
from protocol.catalogue import SignedCatalogue, catalogue_sign
from protocol.handshake import NonceStore, handshake_build
from protocol.keys import Hotkey
from protocol.messages.common import ErrorCode, ErrorMessage, Handshake, JobResult, JobSpec
from protocol.messages.facilitator import (
    CatalogueOffer,
    ClassCensus,
    ExecutorCensus,
    JobIntervalCharge,
    JobRequest,
    JobStatusUpdate,
    ValidatorToFacilitator,
)
from protocol.messages.jobs import JobStatus
from protocol.wire import ProtocolError, decode
from tests.factories import job_spec
from tests.validator.factories import (
    BenchmarkCheckFactory,
    BenchmarkCycleFactory,
    MinerFactory,
    MinerManifestFactory,
    manifest_message,
)
from validator.driver import DriverContext
from validator.miner_links import MinerLinks
from validator.models import FacilitatorOutbox
from validator.node import ValidatorNode
from validator.services.jobs import organic_job_receive, organic_job_record

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_async_db")]
_from_validator: TypeAdapter[Any] = TypeAdapter(ValidatorToFacilitator)


@dataclass
class Link:
    """One accepted connection from the validator, as the facilitator sees it."""

    ws: ServerConnection

    async def update(self, timeout: float = 3.0) -> JobStatusUpdate:
        message = _from_validator.validate_json(await asyncio.wait_for(self.ws.recv(), timeout))
        assert isinstance(message, JobStatusUpdate), message
        return message

    async def offer(self, timeout: float = 3.0) -> CatalogueOffer:
        message = _from_validator.validate_json(await asyncio.wait_for(self.ws.recv(), timeout))
        assert isinstance(message, CatalogueOffer), message
        return message

    async def nothing(self, timeout: float = 0.5) -> bool:
        """True if the validator sends nothing for `timeout` seconds."""
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected frame {raw!r}")

    async def send(self, message: Any) -> None:
        await self.ws.send(message.model_dump_json())


@dataclass
class FakeFacilitator:
    """Answers the handshake (or hangs up before answering while `refuse` > 0) and hands each
    accepted connection to the test, which drops it by closing it."""

    hotkey: Hotkey
    refuse: int = 0
    attempts: list[float] = field(default_factory=list)
    links: asyncio.Queue[Link] = field(default_factory=asyncio.Queue)

    async def handler(self, ws: ServerConnection) -> None:
        self.attempts.append(time.monotonic())
        hello = Handshake.model_validate_json(await ws.recv())
        if self.refuse > 0:
            self.refuse -= 1
            return  # the connection closes without a handshake reply
        reply = handshake_build(hotkey=self.hotkey, peer_hotkey=hello.hotkey, path=hello.path, peer_nonce=hello.nonce)
        await ws.send(reply.model_dump_json())
        await self.links.put(Link(ws))
        await ws.wait_closed()

    async def link(self, timeout: float = 10.0) -> Link:
        return await asyncio.wait_for(self.links.get(), timeout)


@dataclass
class Running:
    facilitator: FakeFacilitator
    node: ValidatorNode


@pytest.fixture
async def running(make_hotkey, nonces: NonceStore) -> AsyncIterator[Running]:
    """A fake facilitator on a free loopback port and a validator node dialing it."""
    facilitator = FakeFacilitator(hotkey=make_hotkey())
    async with serve(facilitator.handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        hotkey = make_hotkey()
        node = ValidatorNode(
            ctx=DriverContext(links=MinerLinks(hotkey=hotkey, nonces=nonces)),
            hotkey=hotkey,
            nonces=nonces,
            facilitator_url=f"ws://127.0.0.1:{port}/",
            facilitator_hotkey=facilitator.hotkey.ss58,
        )
        task = asyncio.create_task(node.run_forever())
        try:
            yield Running(facilitator=facilitator, node=node)
        finally:
            for job_task, _ in list(node.jobs.values()):
                job_task.cancel()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            server.close()


def _record(job_uuid: uuid.UUID, *statuses: JobStatus) -> None:
    for status in statuses:
        result = JobResult(exit_code=0, executor_seconds=1.0) if status == JobStatus.COMPLETED else None
        assert organic_job_record(
            job_uuid=job_uuid, status=status, detail=str(status), result=result, observed_seconds=1.0
        )


def _unsent() -> int:
    return FacilitatorOutbox.objects.filter(sent_at=None).count()


# --- reconnect ------------------------------------------------------------------------------


async def test_a_dropped_link_is_dialed_again_with_growing_backoff(running):
    facilitator = running.facilitator
    first = await facilitator.link()
    facilitator.refuse = 2  # the next two dials fail at the handshake
    await first.ws.close()
    await facilitator.link()
    await asyncio.wait_for(running.node.connected.wait(), 2)
    dials = facilitator.attempts
    assert len(dials) == 4
    gaps = [b - a for a, b in itertools.pairwise(dials)]
    # 0.5 s after a drop, doubling after each failed dial (each with up to half again as jitter).
    assert 0.5 <= gaps[0] < 0.5 * 1.5 + 0.5
    assert 1.0 <= gaps[1] < 1.0 * 1.5 + 0.5
    assert 2.0 <= gaps[2] < 2.0 * 1.5 + 0.5


async def test_a_link_that_comes_up_again_resets_the_backoff(running):
    facilitator = running.facilitator
    facilitator.refuse = 0
    for _ in range(2):
        link = await facilitator.link()
        await link.ws.close()
    await facilitator.link()
    gaps = [b - a for a, b in itertools.pairwise(facilitator.attempts)]
    assert len(gaps) == 2
    assert all(0.5 <= gap < 0.5 * 1.5 + 0.5 for gap in gaps), gaps


async def test_a_facilitator_flooding_over_the_rate_is_dropped_and_dialed_again(
    running: Running, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.PROTOCOL_RATE_PER_S, settings.PROTOCOL_RATE_BURST = 1.0, 10
    first = await running.facilitator.link()
    for _ in range(30):
        await first.send(ErrorMessage(code=ErrorCode.INTERNAL, detail="noise"))
    second = await running.facilitator.link()
    assert second.ws is not first.ws
    assert any(
        "rate_limited: facilitator flooding: over 1 frames/s after a burst of 10" in r.getMessage()
        for r in caplog.records
    )


# --- outbox ---------------------------------------------------------------------------------


async def test_updates_made_while_disconnected_are_delivered_in_order_exactly_once(running):
    facilitator = running.facilitator
    first = await facilitator.link()
    facilitator.refuse = 1  # keep the link down a while
    await first.ws.close()
    while running.node.connected.is_set():
        await asyncio.sleep(0.01)

    a, b = uuid.uuid4(), uuid.uuid4()
    await sync_to_async(organic_job_receive)(job_uuid=a, spec=job_spec())
    await sync_to_async(organic_job_receive)(job_uuid=b, spec=job_spec())
    await sync_to_async(_record)(a, JobStatus.DISPATCHED, JobStatus.RUNNING)
    await sync_to_async(_record)(b, JobStatus.DISPATCHED)
    await sync_to_async(_record)(a, JobStatus.COMPLETED)
    running.node.notify_outbox()

    second = await facilitator.link()
    got = [await second.update() for _ in range(4)]
    assert [(u.job_uuid, u.status) for u in got] == [
        (a, JobStatus.DISPATCHED),
        (a, JobStatus.RUNNING),
        (b, JobStatus.DISPATCHED),
        (a, JobStatus.COMPLETED),
    ]
    assert got[-1].result == JobResult(exit_code=0, executor_seconds=1.0)
    assert await second.nothing()
    assert await sync_to_async(_unsent)() == 0
    # Once delivered, never again: not on this link, not after another reconnect.
    await second.ws.close()
    third = await facilitator.link()
    assert await third.nothing()


async def test_updates_made_while_connected_are_sent_at_once(running):
    link = await running.facilitator.link()
    job_uuid = uuid.uuid4()
    await sync_to_async(organic_job_receive)(job_uuid=job_uuid, spec=job_spec())
    await sync_to_async(_record)(job_uuid, JobStatus.DISPATCHED)
    running.node.notify_outbox()
    update = await link.update()
    assert (update.job_uuid, update.status, update.detail) == (job_uuid, JobStatus.DISPATCHED, "dispatched")


# --- dedupe ---------------------------------------------------------------------------------


@dataclass
class HeldDriver:
    """Stands in for `organic_job_drive`: counts the drives and holds each job until released,
    then completes it through the real service (so the outbox gets its final update)."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    drives: list[uuid.UUID] = field(default_factory=list)

    async def __call__(self, *, job_uuid: uuid.UUID, spec: JobSpec, ctx: DriverContext, cancel: asyncio.Event) -> None:
        self.drives.append(job_uuid)
        await self.release.wait()
        await sync_to_async(_record)(job_uuid, JobStatus.COMPLETED)
        ctx.notify()


@pytest.fixture
def held_driver(monkeypatch: pytest.MonkeyPatch) -> HeldDriver:
    driver = HeldDriver()
    monkeypatch.setattr(validator.node, "organic_job_drive", driver)
    return driver


async def test_a_job_sent_twice_runs_once(running, held_driver):
    link = await running.facilitator.link()
    request = JobRequest(job_uuid=uuid.uuid4(), spec=job_spec())
    await link.send(request)
    await link.send(request)
    await asyncio.sleep(0.3)
    assert held_driver.drives == [request.job_uuid]

    held_driver.release.set()
    update = await link.update()
    assert (update.job_uuid, update.status) == (request.job_uuid, JobStatus.COMPLETED)
    assert await link.nothing()
    assert held_driver.drives == [request.job_uuid]


async def test_a_job_sent_again_after_it_ended_is_not_rerun_and_its_end_is_resent(running, held_driver):
    held_driver.release.set()
    link = await running.facilitator.link()
    request = JobRequest(job_uuid=uuid.uuid4(), spec=job_spec())
    await link.send(request)
    assert (await link.update()).status == JobStatus.COMPLETED

    # The facilitator lost the final report (say, across its own restart) and asks again.
    await link.send(request)
    again = await link.update()
    assert (again.job_uuid, again.status) == (request.job_uuid, JobStatus.COMPLETED)
    assert await link.nothing()
    assert held_driver.drives == [request.job_uuid]


async def test_a_job_an_earlier_process_was_running_is_closed_as_a_retry_then_driven_again(running, held_driver):
    """What the node's own database knows from before a restart: the job was running on a miner
    (which cancelled it when the validator vanished). The facilitator resends it on reconnect."""
    miner = await sync_to_async(MinerFactory.create)()
    request = JobRequest(job_uuid=uuid.uuid4(), spec=job_spec())
    await sync_to_async(organic_job_receive)(job_uuid=request.job_uuid, spec=request.spec)
    await sync_to_async(organic_job_record)(
        job_uuid=request.job_uuid, status=JobStatus.RUNNING, detail="container started", miner_hotkey=miner.hotkey
    )
    await sync_to_async(FacilitatorOutbox.objects.update)(sent_at=timezone.now())  # delivered before the crash

    link = await running.facilitator.link()
    await link.send(request)
    retry = await link.update()
    assert (retry.job_uuid, retry.status, retry.miner_hotkey) == (request.job_uuid, JobStatus.DISPATCHED, miner.hotkey)
    assert "validator restarted" in retry.detail
    await asyncio.sleep(0.3)
    assert held_driver.drives == [request.job_uuid]
    held_driver.release.set()
    assert (await link.update()).status == JobStatus.COMPLETED


async def test_a_job_no_miner_had_yet_is_driven_again_without_a_retry_report(running, held_driver):
    request = JobRequest(job_uuid=uuid.uuid4(), spec=job_spec())
    await sync_to_async(organic_job_receive)(job_uuid=request.job_uuid, spec=request.spec)
    link = await running.facilitator.link()
    await link.send(request)
    await asyncio.sleep(0.3)
    assert held_driver.drives == [request.job_uuid]
    held_driver.release.set()
    assert (await link.update()).status == JobStatus.COMPLETED
    assert await link.nothing()


# --- catalogue ------------------------------------------------------------------------------


@pytest.fixture
def quick_catalogue_poll(settings: Any) -> float:
    """The node looks at its applied catalogue version every 0.1 s (request before `running`)."""
    settings.CATALOGUE_SYNC_S = 0.1
    return settings.CATALOGUE_SYNC_S


def _apply_catalogue(owner: Hotkey, *, version: int) -> SignedCatalogue:
    """What the DHT sync does on a validator: apply an owner-signed catalogue to the class table."""
    envelope = catalogue_sign(catalogue=catalogue_build(version=version), hotkey=owner)
    catalogue_apply(envelope.catalogue, envelope=envelope)
    return envelope


async def test_nothing_is_offered_before_a_catalogue_is_applied(quick_catalogue_poll, running, executor_classes):
    link = await running.facilitator.link()
    assert await link.nothing(timeout=quick_catalogue_poll * 4)


async def test_each_new_version_is_offered_once_over_a_live_link(
    quick_catalogue_poll, running, make_hotkey, executor_classes
):
    owner = make_hotkey()
    link = await running.facilitator.link()
    for version in (1, 2):
        applied = await sync_to_async(_apply_catalogue)(owner, version=version)
        assert (await link.offer()).envelope == applied
        assert await link.nothing(timeout=quick_catalogue_poll * 4)  # once per version, not every poll


async def test_the_applied_catalogue_is_offered_right_after_each_connect(
    settings, running, make_hotkey, executor_classes
):
    settings.CATALOGUE_SYNC_S = 60.0  # no poll comes round during the test: only connects offer
    facilitator = running.facilitator
    first = await facilitator.link()
    # Whether this first link still offers it depends on whether its first look came before.
    applied = await sync_to_async(_apply_catalogue)(make_hotkey(), version=1)
    for _ in range(2):
        await first.ws.close()
        first = await facilitator.link()
        assert (await first.offer(timeout=1.0)).envelope == applied
        assert await first.nothing(timeout=0.3)


# --- executor census ------------------------------------------------------------------------


@pytest.fixture
def quick_census_poll(settings: Any) -> float:
    """The node looks for a newly finished benchmark run every 0.1 s (request before `running`)."""
    settings.VALIDATOR_CENSUS_POLL_S = 0.1
    return settings.VALIDATOR_CENSUS_POLL_S


def _finish_run(number: int, **claims: int) -> None:
    """A finished benchmark run in which one miner claimed `claims` per class and passed it all."""
    miner = MinerFactory.create()
    MinerManifestFactory.create(miner=miner, message=manifest_message(h1=claims))
    cycle = BenchmarkCycleFactory.create(number=number)
    for cls, count in claims.items():
        for i in range(count):
            for benchmark in ("pow", "matmul"):
                BenchmarkCheckFactory.create(
                    cycle=cycle, miner=miner, executor=f"h1/{cls}/{i}", executor_class=cls, benchmark=benchmark
                )


async def _census(link: Link, timeout: float = 3.0) -> ExecutorCensus:
    message = _from_validator.validate_json(await asyncio.wait_for(link.ws.recv(), timeout))
    assert isinstance(message, ExecutorCensus), message
    return message


async def test_no_census_before_a_benchmark_run_finished(quick_census_poll, running):
    link = await running.facilitator.link()
    assert await link.nothing(timeout=quick_census_poll * 4)


async def test_the_census_is_sent_on_connect_and_after_each_finished_run(quick_census_poll, running):
    await sync_to_async(_finish_run)(5, **{"cpu.small": 2})
    link = await running.facilitator.link()
    first = await _census(link)
    assert (first.cycle, first.classes) == (
        5,
        [ClassCensus(executor_class="cpu.small", miners=1, claimed=2, verified=2)],
    )
    assert await link.nothing(timeout=quick_census_poll * 4)  # once per run, not every poll

    await sync_to_async(_finish_run)(6, **{"cpu.small": 1})
    second = await _census(link)
    assert second.cycle == 6
    # The first miner's checks are from run 5, still its latest finished one: both count.
    assert second.classes == [ClassCensus(executor_class="cpu.small", miners=2, claimed=3, verified=3)]

    await link.ws.close()  # a new link gets the census again at once
    again = await running.facilitator.link()
    assert (await _census(again)).cycle == 6


OldValidatorToFacilitator = Annotated[
    JobStatusUpdate | JobIntervalCharge | CatalogueOffer | ErrorMessage, Field(discriminator="type")
]
_old_facilitator_accepts: TypeAdapter[Any] = TypeAdapter(OldValidatorToFacilitator)


async def test_a_facilitator_that_does_not_know_the_census_is_sent_no_more_and_keeps_the_link(
    quick_census_poll, running
):
    """What a facilitator from before the census answers it: its consumer's decode of the frame
    (protocol/wire.py) with the union it knew, an UNKNOWN_TYPE error; its link goes on."""
    await sync_to_async(_finish_run)(5, **{"cpu.small": 1})
    link = await running.facilitator.link()
    raw = await asyncio.wait_for(link.ws.recv(), 3)
    with pytest.raises(ProtocolError) as refused:
        decode(_old_facilitator_accepts, raw, max_bytes=1 << 20)
    assert refused.value.code == ErrorCode.UNKNOWN_TYPE
    await link.send(refused.value.as_message())

    await sync_to_async(_finish_run)(6, **{"cpu.small": 1})
    assert await link.nothing(timeout=quick_census_poll * 6)  # no census after the refusal
    assert running.node.census_refused
    job_uuid = uuid.uuid4()  # and the link still carries what it owes
    await sync_to_async(organic_job_receive)(job_uuid=job_uuid, spec=job_spec())
    await sync_to_async(_record)(job_uuid, JobStatus.DISPATCHED)
    running.node.notify_outbox()
    assert (await link.update()).job_uuid == job_uuid
    assert len(running.facilitator.attempts) == 1  # never dialed again
