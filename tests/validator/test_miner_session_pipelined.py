"""The payload pipelined with the reservation (validator/miner_session.py `pipelines`): a plain
job rides in JobReserve and no JobRun follows; one with env or input waits for the acceptance; a
pipelined job the validator gives up on before it was accepted properly is cancelled."""

import asyncio
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection

from protocol.messages.common import UrlInput
from protocol.messages.miner import JobCancel, JobReserve, JobRun, ReceiptCountersign, ReceiptOffer
from protocol.receipts import receipt_sign
from tests.factories import job_spec
from tests.validator.scripted_miner import SessionRun, accepted_for, complete, scripted_miner
from validator.miner_session import InfrastructureFailure, pipelines

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_deadlines", "close_async_db")]


def test_only_a_payload_a_declining_miner_may_see_is_pipelined() -> None:
    assert pipelines(job_spec())
    assert not pipelines(job_spec(env={"TOKEN": "secret"}))
    assert not pipelines(job_spec(input={"kind": "zip_b64", "zip_b64": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}))
    assert not pipelines(job_spec(input=UrlInput(url="https://example.org/in.zip?sig=x").model_dump()))


async def test_a_plain_payload_rides_with_the_reservation_and_no_job_run_follows(run: SessionRun) -> None:
    wire: list[Any] = []

    async def record(ws: ServerConnection, message: Any) -> None:
        wire.append(message)
        if isinstance(message, JobReserve):
            assert message.spec is not None
            await complete(ws, message)
            # A real miner starts the pipelined job itself: here the script does it.
            await complete(ws, JobRun(job_uuid=message.job_uuid, spec=message.spec))
            return
        await complete(ws, message)

    run.spec = job_spec(timeout_s=2)
    async with scripted_miner(run.miner_key, _no_emulation(record)) as address:
        ended = await run(address)
    assert ended.message.type == "job.finished"
    assert [type(m) for m in wire] == [JobReserve, ReceiptCountersign, ReceiptOffer]  # no JobRun on the wire
    assert wire[0].spec == run.spec


def _no_emulation(script: Any) -> Any:
    """Hides the acceptance from scripted_miner's own start of pipelined jobs (the script starts it)."""

    async def wrapped(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobRun):
            return  # scripted_miner's emulated start: this script already started the job
        await script(ws, message)

    return wrapped


async def test_a_pipelined_job_with_a_forged_acceptance_is_cancelled_on_the_miner(run: SessionRun, make_hotkey) -> None:
    wire: list[Any] = []
    other = make_hotkey()

    async def forger(ws: ServerConnection, message: Any) -> None:
        wire.append(message)
        if isinstance(message, JobReserve):
            accepted = accepted_for(message)
            forged = receipt_sign(message.started.payload, other)
            await ws.send(accepted.model_copy(update={"started_countersignature": forged}).model_dump_json())

    run.spec = job_spec(timeout_s=2)
    async with scripted_miner(run.miner_key, forger) as address:
        with pytest.raises(InfrastructureFailure) as info:
            await run(address)
        await _until_seen(wire, JobCancel)
    assert info.value.reason == "miner_protocol_error"
    # The miner got the payload with the reservation and may be running it: it is told to stop.
    assert [type(m) for m in wire if not isinstance(m, JobRun)] == [JobReserve, JobCancel]
    assert wire[-1] == JobCancel(job_uuid=run.job_uuid)


async def _until_seen(wire: list[Any], kind: type) -> None:
    async def poll() -> None:
        while not any(isinstance(m, kind) for m in wire):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 5)
