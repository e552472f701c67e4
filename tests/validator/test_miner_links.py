"""Links to miners (validator/miner_links.py) over real websockets and the real signed handshake:
one link per miner reused across jobs, a new dial after the miner drops, refused identities, and
frames routed to the job they name."""

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection

from protocol.keys import Hotkey, hotkey_create
from protocol.messages.common import ErrorCode, ErrorMessage, JobResult
from protocol.messages.jobs import JobFinished, JobStarted
from protocol.messages.miner import JobAccepted, JobReserve
from protocol.wire import ProtocolError
from tests.factories import signed_reserve
from tests.validator.scripted_miner import complete, scripted_miner
from validator import miner_links as miner_links_module
from validator.miner_links import FreedSlots, LinkLost, MinerLinks

pytestmark = pytest.mark.usefixtures("fast_deadlines")
VALIDATOR = hotkey_create()[0]  # signs the reservations (the links do not read them)


def _reserve(job_uuid: uuid.UUID) -> JobReserve:
    return signed_reserve(
        validator=VALIDATOR, miner_hotkey=VALIDATOR.ss58, job_uuid=job_uuid, image="alpine", timeout_s=5
    )


async def _next(queue: asyncio.Queue[Any]) -> Any:
    return await asyncio.wait_for(queue.get(), 3)


async def test_one_link_per_miner_is_reused_across_jobs(miner_links: MinerLinks, miner_key: Hotkey) -> None:
    connections: list[ServerConnection] = []
    async with scripted_miner(miner_key, complete, connections=connections) as address:
        first = await miner_links.get(miner_hotkey=miner_key.ss58, address=address)
        replies = []
        for _ in range(3):
            job_uuid = uuid.uuid4()
            queue = first.subscribe(job_uuid)
            again = await miner_links.get(miner_hotkey=miner_key.ss58, address=address)
            assert again is first
            await again.send(_reserve(job_uuid))
            replies.append(await _next(queue))
            again.unsubscribe(job_uuid)
        assert [type(reply) for reply in replies] == [JobAccepted] * 3
        assert len(connections) == 1
        assert list(miner_links.links) == [miner_key.ss58]
        assert first.queues == {}


async def test_concurrent_first_uses_dial_once(miner_links: MinerLinks, miner_key: Hotkey) -> None:
    connections: list[ServerConnection] = []
    async with scripted_miner(miner_key, complete, connections=connections) as address:
        got = await asyncio.gather(*(miner_links.get(miner_hotkey=miner_key.ss58, address=address) for _ in range(4)))
        assert len({id(link) for link in got}) == 1
        assert len(connections) == 1


async def test_a_miner_that_drops_tells_every_job_on_the_link_and_is_dialed_again(
    miner_links: MinerLinks, miner_key: Hotkey
) -> None:
    connections: list[ServerConnection] = []

    async def hang_up_on_the_first_connection(ws: ServerConnection, message: Any) -> None:
        if ws is connections[0]:
            await ws.close()
        else:
            await complete(ws, message)

    async with scripted_miner(miner_key, hang_up_on_the_first_connection, connections=connections) as address:
        link = await miner_links.get(miner_hotkey=miner_key.ss58, address=address)
        jobs = [uuid.uuid4(), uuid.uuid4()]
        queues = [link.subscribe(job_uuid) for job_uuid in jobs]
        await link.send(_reserve(jobs[0]))
        lost = [await _next(queue) for queue in queues]
        assert all(isinstance(item, LinkLost) for item in lost)
        assert "connection closed" in str(lost[0])
        assert not link.open
        # A job subscribing to the dead link learns at once; sending on it is LinkLost too.
        assert isinstance(link.subscribe(uuid.uuid4()).get_nowait(), LinkLost)
        with pytest.raises(LinkLost):
            await link.send(_reserve(uuid.uuid4()))

        redialed = await miner_links.get(miner_hotkey=miner_key.ss58, address=address)
        assert redialed is not link
        assert redialed.open
        job_uuid = uuid.uuid4()
        queue = redialed.subscribe(job_uuid)
        await redialed.send(_reserve(job_uuid))
        accepted = await _next(queue)
        assert isinstance(accepted, JobAccepted)
        assert accepted.job_uuid == job_uuid
        assert len(connections) == 2


async def test_fresh_replaces_a_link_that_still_looks_open(miner_links: MinerLinks, miner_key: Hotkey) -> None:
    connections: list[ServerConnection] = []
    async with scripted_miner(miner_key, complete, connections=connections) as address:
        old = await miner_links.get(miner_hotkey=miner_key.ss58, address=address)
        new = await miner_links.get(miner_hotkey=miner_key.ss58, address=address, fresh=True)
        assert new is not old
        assert miner_links.links[miner_key.ss58] is new
        await asyncio.sleep(0)
        assert not old.open
        assert len(connections) == 2


async def test_a_miner_signing_as_someone_else_fails_the_handshake_and_is_not_kept(
    miner_links: MinerLinks, miner_key: Hotkey, make_hotkey: Callable[..., Hotkey]
) -> None:
    impostor = make_hotkey()
    async with scripted_miner(impostor, complete) as address:
        with pytest.raises(ProtocolError) as info:
            await miner_links.get(miner_hotkey=miner_key.ss58, address=address)
    assert info.value.code == ErrorCode.UNAUTHENTICATED
    assert f"expected {miner_key.ss58}, got {impostor.ss58}" in info.value.detail
    assert miner_links.links == {}


async def test_an_unreachable_miner_is_an_os_error_and_is_not_kept(miner_links: MinerLinks, miner_key: Hotkey) -> None:
    async with scripted_miner(miner_key, complete) as address:
        pass  # closed again: nothing listens on this port any more
    with pytest.raises(ConnectionRefusedError):
        await miner_links.get(miner_hotkey=miner_key.ss58, address=address)
    assert miner_links.links == {}


async def test_frames_go_to_the_job_they_name_and_bad_ones_are_skipped(
    miner_links: MinerLinks, miner_key: Hotkey
) -> None:
    mine = uuid.uuid4()

    async def noisy(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            await ws.send("{not json")
            await ws.send(ErrorMessage(code=ErrorCode.INTERNAL, detail="hiccup").model_dump_json())
            await ws.send(JobStarted(job_uuid=uuid.uuid4()).model_dump_json())  # not a job of ours
            await ws.send(JobStarted(job_uuid=message.job_uuid).model_dump_json())

    async with scripted_miner(miner_key, noisy) as address:
        link = await miner_links.get(miner_hotkey=miner_key.ss58, address=address)
        queue = link.subscribe(mine)
        await link.send(_reserve(mine))
        assert await _next(queue) == JobStarted(job_uuid=mine)
        assert queue.empty()
        assert link.open


async def test_close_all_closes_and_forgets_every_link(
    miner_links: MinerLinks, make_hotkey: Callable[..., Hotkey]
) -> None:
    keys = [make_hotkey(), make_hotkey()]
    async with scripted_miner(keys[0], complete) as a, scripted_miner(keys[1], complete) as b:
        opened = [
            await miner_links.get(miner_hotkey=key.ss58, address=address)
            for key, address in zip(keys, (a, b), strict=True)
        ]
        await miner_links.close_all()
        await asyncio.sleep(0)
        assert miner_links.links == {}
        assert [link.open for link in opened] == [False, False]


async def test_a_job_is_timed_by_when_its_frames_arrived_not_when_its_session_reads_them(
    miner_links: MinerLinks, miner_key: Hotkey
) -> None:
    mine = uuid.uuid4()

    async def quick(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            await ws.send(JobStarted(job_uuid=message.job_uuid).model_dump_json())
            await asyncio.sleep(0.3)
            await ws.send(JobStarted(job_uuid=message.job_uuid).model_dump_json())  # a repeat: not re-timed
            await ws.send(
                JobFinished(
                    job_uuid=message.job_uuid, result=JobResult(exit_code=0, executor_seconds=0.3)
                ).model_dump_json()
            )
            await ws.send(JobStarted(job_uuid=uuid.uuid4()).model_dump_json())  # not ours: never timed

    async with scripted_miner(miner_key, quick) as address:
        link = await miner_links.get(miner_hotkey=miner_key.ss58, address=address)
        queue = link.subscribe(mine)
        await link.send(_reserve(mine))
        for _ in range(3):
            await _next(queue)
        await asyncio.sleep(1.0)  # a session busy elsewhere reads late: the span stays the miner's
        span = link.arrival(mine, "job.finished") - link.arrival(mine, "job.started")
        assert 0.29 <= span < 0.6
        assert {job for job, _ in link.arrived} == {mine}
        link.unsubscribe(mine)
        assert link.arrived == {}


def _flooder(frames: list[str]) -> Any:
    """A miner that answers a reservation with `frames`, as fast as it can write them."""

    async def flood(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            for frame in frames:
                await ws.send(frame.replace("JOB", str(message.job_uuid)))

    return flood


async def _dropped(queue: asyncio.Queue[Any]) -> tuple[int, LinkLost]:
    """How many frames reached the job before the link was dropped, and why it was."""
    delivered = 0
    while not isinstance(item := await _next(queue), LinkLost):
        delivered += 1
    return delivered, item


async def test_a_miner_flooding_over_the_rate_has_its_link_dropped_with_the_reason(
    miner_links: MinerLinks, miner_key: Hotkey, settings: Any
) -> None:
    settings.PROTOCOL_RATE_PER_S, settings.PROTOCOL_RATE_BURST = 1.0, 20
    frame = '{"type": "job.started", "job_uuid": "JOB"}'
    async with scripted_miner(miner_key, _flooder([frame] * 200)) as address:
        link = await miner_links.get(miner_hotkey=miner_key.ss58, address=address)
        job_uuid = uuid.uuid4()
        queue = link.subscribe(job_uuid)
        await link.send(_reserve(job_uuid))
        delivered, lost = await _dropped(queue)
        assert 20 <= delivered < 30  # the burst, and what the rate refilled meanwhile
        assert "miner dropped: flooding: over 1 frames/s after a burst of 20" in str(lost)
        assert link.last_refused.startswith("flooding")
        await asyncio.sleep(0)
        assert not link.open


async def test_a_miner_that_keeps_sending_bad_frames_has_its_link_dropped(
    miner_links: MinerLinks, miner_key: Hotkey, settings: Any
) -> None:
    settings.PROTOCOL_BAN_STRIKES = 3
    async with scripted_miner(miner_key, _flooder(["{not json"] * 10)) as address:
        link = await miner_links.get(miner_hotkey=miner_key.ss58, address=address)
        job_uuid = uuid.uuid4()
        queue = link.subscribe(job_uuid)
        await link.send(_reserve(job_uuid))
        delivered, lost = await _dropped(queue)
        assert delivered == 0
        assert "3 bad frames within 60 s, the last: malformed: not JSON" in str(lost)


async def test_frames_a_job_never_reads_are_bounded(
    miner_links: MinerLinks, miner_key: Hotkey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(miner_links_module, "MAX_QUEUED_PER_JOB", 5)
    frame = '{"type": "job.started", "job_uuid": "JOB"}'
    async with scripted_miner(miner_key, _flooder([frame] * 10)) as address:
        link = await miner_links.get(miner_hotkey=miner_key.ss58, address=address)
        job_uuid = uuid.uuid4()
        queue = link.subscribe(job_uuid)
        await link.send(_reserve(job_uuid))
        while link.open:  # the job's session is busy elsewhere: nothing reads its queue
            await asyncio.sleep(0.02)
        delivered, lost = await _dropped(queue)
        assert delivered == 5
        assert f"over 5 unread frames for job {job_uuid}" in str(lost)


# --- FreedSlots: wake-ups for jobs waiting on busy miners ------------------------------------


def _waiter(freed: FreedSlots, cancel: asyncio.Event | None = None, *, timeout: float = 5.0) -> asyncio.Task[Any]:
    since = freed.generation("cpu.small")
    return asyncio.ensure_future(
        freed.wait(executor_class="cpu.small", since=since, timeout=timeout, cancel=cancel or asyncio.Event())
    )


async def _settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_freed_slot_wakes_the_oldest_waiter_only_and_names_the_miner() -> None:
    freed = FreedSlots()
    first, second = _waiter(freed), _waiter(freed, timeout=0.2)
    await _settle()
    freed.release(executor_class="cpu.small", miner_hotkey="5Miner")
    assert await first == "5Miner"
    assert await second is None  # nothing freed for it: its own timeout ended the wait
    assert freed.waiters["cpu.small"] == []


async def test_a_slot_freed_during_the_round_means_no_wait_at_all() -> None:
    freed = FreedSlots()
    since = freed.generation("cpu.small")
    freed.release(executor_class="cpu.small", miner_hotkey="5Miner")  # nobody waits yet
    result = await freed.wait(executor_class="cpu.small", since=since, timeout=60, cancel=asyncio.Event())
    assert result is None
    assert freed.waiters == {}


async def test_a_slot_of_another_class_wakes_no_one() -> None:
    freed = FreedSlots()
    waiter = _waiter(freed, timeout=0.2)
    await _settle()
    freed.release(executor_class="gpu.big", miner_hotkey="5Miner")
    assert await waiter is None
    assert freed.generation("cpu.small") == 0


async def test_a_cancelled_waiter_hands_its_wake_up_to_the_next() -> None:
    freed = FreedSlots()
    cancel = asyncio.Event()
    cancelled, other = _waiter(freed, cancel), _waiter(freed)
    await _settle()
    # Both arrive in one go: the wake-up reaches the cancelled job first, which cannot use it.
    freed.release(executor_class="cpu.small", miner_hotkey="5Miner")
    cancel.set()
    assert await cancelled is None
    assert await other == "5Miner"


async def test_a_cancel_ends_the_wait_without_a_slot() -> None:
    freed = FreedSlots()
    cancel = asyncio.Event()
    waiter = _waiter(freed, cancel, timeout=60)
    await _settle()
    cancel.set()
    assert await waiter is None
    assert freed.waiters["cpu.small"] == []


async def test_a_new_link_subscribes_to_its_share_standing(make_hotkey, nonces) -> None:
    """The first frame after the handshake is share.subscribe (docs/market.md)."""
    first: list[str] = []

    async def read_first(ws: ServerConnection) -> None:
        first.append(json.loads(await ws.recv())["type"])

    key = make_hotkey()
    links = MinerLinks(hotkey=make_hotkey(), nonces=nonces)
    async with scripted_miner(key, complete, on_connect=read_first) as address:
        await links.get(miner_hotkey=key.ss58, address=address)
        await links.close_all()
    assert first == ["share.subscribe"]
