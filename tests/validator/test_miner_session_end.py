"""A job's end (validator/miner_session.py): recorded through `on_end` as soon as the terminal
message is in, before the job_finished receipt's round trip; the freed slot announced to waiting
jobs; and `EndNotRecorded`, with the receipts traded all the same, when recording fails."""

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.server import ServerConnection

from protocol.messages.jobs import JobFinished
from protocol.messages.miner import JobRun, ReceiptOffer
from tests.validator.scripted_miner import SessionRun, complete, scripted_miner
from validator.miner_session import Ended, EndNotRecorded, InfrastructureFailure, MinerTarget, run_on_miner
from validator.models import ReceiptRecord

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_deadlines", "close_async_db")]


def _finished_receipts(job_uuid: Any) -> list[tuple[str, bool]]:
    rows = ReceiptRecord.objects.filter(job_uuid=job_uuid, kind="job_finished")
    return [(r.kind, bool(r.miner_signature)) for r in rows]


async def _run(run: SessionRun, address: str, on_end: Any) -> Ended:
    return await run_on_miner(
        job_uuid=run.job_uuid,
        spec=run.spec,
        miner=MinerTarget(hotkey=run.miner_key.ss58, address=address),
        links=run.links,
        cancel=run.cancel,
        on_progress=run.on_progress,
        on_end=on_end,
    )


async def test_the_end_is_recorded_before_the_finished_receipt_is_offered(run: SessionRun) -> None:
    order: list[str] = []

    async def miner(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, ReceiptOffer) and message.payload.kind == "job_finished":
            order.append("receipt offered")
        await complete(ws, message)

    async def on_end(ended: Ended) -> None:
        order.append(f"end recorded: {type(ended.message).__name__}")

    async with scripted_miner(run.miner_key, miner) as address:
        ended = await _run(run, address, on_end)
    assert isinstance(ended.message, JobFinished)
    assert order == ["end recorded: JobFinished", "receipt offered"]
    assert await sync_to_async(_finished_receipts)(run.job_uuid) == [("job_finished", True)]


async def test_an_end_that_cannot_be_recorded_is_typed_and_the_receipts_are_still_traded(run: SessionRun) -> None:
    async def on_end(ended: Ended) -> None:
        raise RuntimeError("the database is gone")

    async with scripted_miner(run.miner_key, complete) as address:
        with pytest.raises(EndNotRecorded) as info:
            await _run(run, address, on_end)
    assert isinstance(info.value.ended.message, JobFinished)
    assert isinstance(info.value.__cause__, RuntimeError)
    # The miner did the work: its job_finished receipt is countersigned and kept regardless.
    assert await sync_to_async(_finished_receipts)(run.job_uuid) == [("job_finished", True)]
    for link in run.links.links.values():
        assert run.job_uuid not in link.queues


async def test_the_end_frees_the_slot_for_a_job_waiting_on_that_class(run: SessionRun) -> None:
    freed = run.links.freed
    since = freed.generation(run.spec.executor_class)
    waiting = asyncio.ensure_future(
        freed.wait(executor_class=run.spec.executor_class, since=since, timeout=30, cancel=asyncio.Event())
    )
    async with scripted_miner(run.miner_key, complete) as address:
        await run(address)
    assert await asyncio.wait_for(waiting, 5) == run.miner_key.ss58


async def test_a_session_the_miner_failed_gives_its_slot_back_too(run: SessionRun) -> None:
    async def stall(ws: ServerConnection, message: Any) -> None:
        if not isinstance(message, JobRun):
            await complete(ws, message)  # accepts, then never reports progress

    key = (run.miner_key.ss58, run.spec.executor_class)
    async with scripted_miner(run.miner_key, stall) as address:
        with pytest.raises(InfrastructureFailure):
            await run(address)
    # Abandoned (and told to cancel): counted off, so the miner is asked again by the next job.
    assert run.links.freed.held == {key: 0}
    assert run.links.freed.generation(run.spec.executor_class) == 1
