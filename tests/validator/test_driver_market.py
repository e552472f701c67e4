"""The market as the driver sees it (validator/driver.py): a miner whose price floor is above the
class's price is skipped, an `unprofitable` decline is for good (this job) and never an incident,
an `over_share` decline waits like a busy one; and the miner's share standing is kept."""

import asyncio
import uuid
from contextlib import AsyncExitStack
from decimal import Decimal
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection

from protocol.messages.manifest import ManifestMessage
from protocol.messages.miner import ClassStanding, DeclineReason, JobDeclined, JobReserve, ShareStanding
from tests.validator.factories import manifest_message
from tests.validator.scripted_miner import complete, scripted_miner
from tests.validator.test_driver_busy import HANG_GUARD_S, _network, _start, _statuses, _until
from validator.driver import DriverContext
from validator.miner_links import MinerLinks
from validator.models import Miner, MinerDecline, MinerIncident

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_db", "fast_deadlines", "executor_classes"),
]


def _floored(floor: str) -> ManifestMessage:
    return manifest_message(main={"cpu.small": 2}).model_copy(update={"price_floors": {"cpu.small": floor}})


class Unprofitable:
    def __init__(self) -> None:
        self.reserves: list[uuid.UUID] = []

    async def __call__(self, ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            self.reserves.append(message.job_uuid)
            decline = JobDeclined(job_uuid=message.job_uuid, reason=DeclineReason.UNPROFITABLE, detail="below floor")
            await ws.send(decline.model_dump_json())


async def test_a_priced_out_miner_declines_once_then_is_skipped_and_never_blamed(make_hotkey, nonces) -> None:
    pricey = Unprofitable()  # cpu.small pays 0.001/s; its floor is 0.01
    links = MinerLinks(hotkey=make_hotkey(), nonces=nonces)
    async with AsyncExitStack() as stack:
        hotkeys = await _network(stack, make_hotkey, [pricey], manifest=_floored("0.01"))
        hotkeys += await _network(stack, make_hotkey, [complete], manifest=manifest_message(main={"cpu.small": 2}))
        later = await Miner.objects.aget(hotkey=hotkeys[1])  # an incident routes it after the priced-out one
        await MinerIncident.objects.acreate(miner=later, job_uuid=uuid.uuid4(), reason="seed")
        # The manifests say nothing before the first link: the priced-out miner is asked once.
        first, done = await _start(DriverContext(links=links))
        await asyncio.wait_for(done, HANG_GUARD_S)
        await _until(lambda: links.links[hotkeys[0]].manifest is not None)
        second, done = await _start(DriverContext(links=links))
        await asyncio.wait_for(done, HANG_GUARD_S)
        await links.close_all()
    assert await _statuses(first, second) == ["completed", "completed"]
    assert pricey.reserves == [first]  # the second job knew the floor from the manifest
    declines = [(d.miner.hotkey, d.reason) async for d in MinerDecline.objects.select_related("miner")]
    assert declines == [(hotkeys[0], "unprofitable")]
    assert not await MinerIncident.objects.filter(miner__hotkey=hotkeys[0]).aexists()


async def test_a_floor_at_or_below_the_price_is_asked(make_hotkey, nonces) -> None:
    links = MinerLinks(hotkey=make_hotkey(), nonces=nonces)
    async with AsyncExitStack() as stack:
        [hotkey] = await _network(stack, make_hotkey, [complete], manifest=_floored("0.001"))
        first, done = await _start(DriverContext(links=links))
        await asyncio.wait_for(done, HANG_GUARD_S)
        assert not links.priced_out(miner_hotkey=hotkey, executor_class="cpu.small", price=Decimal("0.001"))
        assert links.priced_out(miner_hotkey=hotkey, executor_class="cpu.small", price=Decimal("0.0009"))
        await links.close_all()
    assert await _statuses(first) == ["completed"]


async def test_an_over_share_decline_waits_and_asks_again_like_a_busy_one(make_hotkey, nonces, settings) -> None:
    settings.VALIDATOR_BUSY_WAIT_S = 0.1
    asked: list[uuid.UUID] = []

    async def over_share_once(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            asked.append(message.job_uuid)
            if len(asked) == 1:
                decline = JobDeclined(job_uuid=message.job_uuid, reason=DeclineReason.OVER_SHARE, detail="share 1")
                await ws.send(decline.model_dump_json())
                return
        await complete(ws, message)

    links = MinerLinks(hotkey=make_hotkey(), nonces=nonces)
    async with AsyncExitStack() as stack:
        await _network(stack, make_hotkey, [over_share_once])
        job, done = await _start(DriverContext(links=links))
        await asyncio.wait_for(done, HANG_GUARD_S)
        await links.close_all()
    assert await _statuses(job) == ["completed"]
    assert asked == [job, job]


async def test_the_share_standing_a_miner_sends_is_kept_on_the_link_and_the_miner_row(make_hotkey, nonces) -> None:
    standing = ShareStanding(classes=[ClassStanding(executor_class="cpu.small", entitled=3, in_use=1, total=4)])
    subscribed = asyncio.Event()

    async def answers_subscription(ws: ServerConnection) -> None:
        await ws.send(standing.model_dump_json())  # as a real miner answers share.subscribe
        subscribed.set()

    links = MinerLinks(hotkey=make_hotkey(), nonces=nonces)
    async with AsyncExitStack() as stack:
        key = make_hotkey()
        address = await stack.enter_async_context(scripted_miner(key, complete, on_connect=answers_subscription))
        await Miner.objects.acreate(hotkey=key.ss58, address=address, stake=1)
        link = await links.get(miner_hotkey=key.ss58, address=address)
        await _until(lambda: link.standing is not None and not link.saving)
        await links.close_all()
    assert link.standing == standing
    miner = await Miner.objects.aget(hotkey=key.ss58)
    assert miner.share == {"cpu.small": {"entitled": 3, "in_use": 1, "total": 4}}
    assert miner.share_at is not None
