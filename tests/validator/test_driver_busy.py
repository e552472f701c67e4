"""Jobs waiting for busy miners (validator/driver.py): woken when one of our jobs of their class
ends instead of polling, the miner that freed the slot asked first, and the timed fallback."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.server import ServerConnection

from protocol.messages.common import JobResult, JobSpec
from protocol.messages.jobs import ExecutorReady, JobFinished, JobStarted, VolumeReady
from protocol.messages.manifest import ManifestMessage
from protocol.messages.miner import DeclineReason, JobDeclined, JobReserve, JobRun
from tests.validator.factories import manifest_message
from tests.validator.scripted_miner import complete, scripted_miner
from validator.driver import DriverContext, organic_job_drive
from validator.miner_links import MinerLinks
from validator.models import Miner, MinerIncident, OrganicJob
from validator.services.jobs import organic_job_receive

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_async_db", "fast_deadlines")]
SPEC = JobSpec(image="meshwork/job-python:3.11", args=["true"], executor_class="cpu.small", timeout_s=5)
HANG_GUARD_S = 20  # far below the 60 s fallback the tests set: only a wake-up finishes in time


async def _busy(ws: ServerConnection, message: Any) -> None:
    if isinstance(message, JobReserve):
        await ws.send(JobDeclined(job_uuid=message.job_uuid, reason=DeclineReason.BUSY).model_dump_json())


class OneSlot:
    """A miner with one executor: busy while a job holds it. A job runs until `release` is set;
    the slot is freed before the end is reported, as a real miner does."""

    def __init__(self) -> None:
        self.holder: uuid.UUID | None = None
        self.release = asyncio.Event()
        self.reserves: list[uuid.UUID] = []
        self.tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            self.reserves.append(message.job_uuid)
            if self.holder is not None:
                await _busy(ws, message)
                return
            self.holder = message.job_uuid
        if isinstance(message, JobRun):
            for progress in (ExecutorReady, VolumeReady, JobStarted):
                await ws.send(progress(job_uuid=message.job_uuid).model_dump_json())
            task = asyncio.ensure_future(self._finish(ws, message.job_uuid))
            self.tasks.add(task)
            return
        await complete(ws, message)

    async def _finish(self, ws: ServerConnection, job_uuid: uuid.UUID) -> None:
        await self.release.wait()
        self.holder = None
        result = JobResult(exit_code=0, executor_seconds=0.1)
        await ws.send(JobFinished(job_uuid=job_uuid, result=result).model_dump_json())


async def _until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), HANG_GUARD_S)


async def _network(
    stack: AsyncExitStack, make_hotkey: Any, scripts: list[Any], manifest: ManifestMessage | None = None
) -> list[str]:
    """Scripted miners registered in routing order (fewer recent incidents route first), each
    sending `manifest` after the handshake if given."""

    async def send_manifest(ws: ServerConnection) -> None:
        if manifest is not None:
            await ws.send(manifest.model_dump_json())

    hotkeys = []
    for i, script in enumerate(scripts):
        key = make_hotkey()
        address = await stack.enter_async_context(scripted_miner(key, script, on_connect=send_manifest))
        miner = await Miner.objects.acreate(hotkey=key.ss58, address=address, stake=1)
        for _ in range(i):
            await MinerIncident.objects.acreate(miner=miner, job_uuid=uuid.uuid4(), reason="seed")
        hotkeys.append(key.ss58)
    return hotkeys


async def _start(ctx: DriverContext) -> tuple[uuid.UUID, Awaitable[None]]:
    job_uuid = uuid.uuid4()
    await sync_to_async(organic_job_receive)(job_uuid=job_uuid, spec=SPEC)
    task = asyncio.ensure_future(organic_job_drive(job_uuid=job_uuid, spec=SPEC, ctx=ctx, cancel=asyncio.Event()))
    return job_uuid, task


async def _statuses(*job_uuids: uuid.UUID) -> list[str]:
    return [(await OrganicJob.objects.aget(uuid=u)).status for u in job_uuids]


async def test_a_job_waiting_for_a_busy_miner_starts_when_our_job_there_ends(make_hotkey, nonces, settings) -> None:
    settings.VALIDATOR_BUSY_WAIT_S = settings.VALIDATOR_QUEUE_TIMEOUT_S = 60  # the timed fallback: far too late
    slot = OneSlot()
    links = MinerLinks(hotkey=make_hotkey(), nonces=nonces)
    ctx = DriverContext(links=links)
    async with AsyncExitStack() as stack:
        await _network(stack, make_hotkey, [slot])
        first, first_done = await _start(ctx)
        await _until(lambda: slot.holder == first)
        second, second_done = await _start(ctx)
        await _until(lambda: bool(links.freed.waiters.get("cpu.small")))  # declined busy: now it waits
        slot.release.set()
        await asyncio.wait_for(asyncio.gather(first_done, second_done), HANG_GUARD_S)
        await links.close_all()
    assert await _statuses(first, second) == ["completed", "completed"]
    assert slot.reserves == [first, second, second]  # asked once more, when woken: no polling


async def test_the_miner_that_freed_the_slot_is_asked_first(make_hotkey, nonces, settings) -> None:
    settings.VALIDATOR_BUSY_WAIT_S = settings.VALIDATOR_QUEUE_TIMEOUT_S = 60
    busy_reserves: list[uuid.UUID] = []

    async def always_busy(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            busy_reserves.append(message.job_uuid)
        await _busy(ws, message)

    slot = OneSlot()
    links = MinerLinks(hotkey=make_hotkey(), nonces=nonces)
    ctx = DriverContext(links=links)
    async with AsyncExitStack() as stack:
        await _network(stack, make_hotkey, [always_busy, slot])  # the full one routes first
        first, first_done = await _start(ctx)
        await _until(lambda: slot.holder == first)
        second, second_done = await _start(ctx)
        await _until(lambda: bool(links.freed.waiters.get("cpu.small")))
        slot.release.set()
        await asyncio.wait_for(asyncio.gather(first_done, second_done), HANG_GUARD_S)
        await links.close_all()
    assert await _statuses(first, second) == ["completed", "completed"]
    assert busy_reserves == [first, second]  # woken, the second job went straight to the freed miner


async def test_a_miner_our_jobs_fill_is_not_asked_until_one_of_them_ends(make_hotkey, nonces, settings) -> None:
    settings.VALIDATOR_BUSY_WAIT_S = settings.VALIDATOR_QUEUE_TIMEOUT_S = 60
    slot = OneSlot()
    links = MinerLinks(hotkey=make_hotkey(), nonces=nonces)
    ctx = DriverContext(links=links)
    async with AsyncExitStack() as stack:
        [hotkey] = await _network(stack, make_hotkey, [slot], manifest=manifest_message(main={"cpu.small": 1}))
        first, first_done = await _start(ctx)
        await _until(lambda: slot.holder == first)
        second, second_done = await _start(ctx)
        await _until(lambda: bool(links.freed.waiters.get("cpu.small")))
        assert slot.reserves == [first]  # the manifest's one executor is ours: no busy decline asked for
        slot.release.set()
        await asyncio.wait_for(asyncio.gather(first_done, second_done), HANG_GUARD_S)
        await links.close_all()
    assert await _statuses(first, second) == ["completed", "completed"]
    assert slot.reserves == [first, second]
    assert links.freed.held == {(hotkey, "cpu.small"): 0}  # every slot counted back


async def test_without_a_wake_up_a_busy_job_asks_again_after_the_busy_wait(make_hotkey, nonces, settings) -> None:
    settings.VALIDATOR_BUSY_WAIT_S = 0.2  # e.g. another validator's job freed the slot: no frame for us
    asked: list[uuid.UUID] = []

    async def busy_twice(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            asked.append(message.job_uuid)
            if len(asked) <= 2:
                await _busy(ws, message)
                return
        await complete(ws, message)

    links = MinerLinks(hotkey=make_hotkey(), nonces=nonces)
    async with AsyncExitStack() as stack:
        await _network(stack, make_hotkey, [busy_twice])
        job, done = await _start(DriverContext(links=links))
        await asyncio.wait_for(done, HANG_GUARD_S)
        await links.close_all()
    assert await _statuses(job) == ["completed"]
    assert asked == [job, job, job]
