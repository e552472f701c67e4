"""A job's receipts (validator/job_receipts.py): interval receipts and their charges, bad or
missing countersignatures against scripted miners; then end to end, the validator's real session
drives a ~3 s job through the miner's real consumer (bridged onto a real socket) and a real
container, with an interval receipt every second: both sides end up holding the same receipts,
both signatures each, and the facilitator is owed one interval charge per interval."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import docker
import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path
from rest_framework.test import APIClient
from websockets.asyncio.server import ServerConnection, serve

from executor.services.hosts import executor_hosts_parse
from miner.consumers import ValidatorInterfaceConsumer
from miner.models import MinerReceipt
from miner.services.executors import executor_hosts_sync
from protocol.keys import Hotkey, hotkey_create
from protocol.messages.common import JobResult
from protocol.messages.jobs import ExecutorReady, JobFinished, JobStarted, VolumeReady
from protocol.messages.miner import JobRun, ReceiptOffer
from protocol.nonces import RedisNonceStore
from protocol.receipts import PAYLOAD_ADAPTER, ReceiptPage, receipt_sign, signed_by
from tests.factories import job_spec
from tests.miner.factories import KnownValidatorFactory
from tests.validator.factories import MinerFactory, OrganicJobFactory
from tests.validator.scripted_miner import Script, SessionRun, complete, countersigned_for, scripted_miner
from validator.miner_links import MINER_PATH, MinerLinks
from validator.miner_session import MinerTarget, Progress, run_on_miner
from validator.models import FacilitatorOutbox, ReceiptRecord
from validator.services.own_receipts import billed_seconds

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_async_db")]
OTHER_KEY = hotkey_create()[0]  # countersigns where the miner should have
application = URLRouter([path("v1/miner/", ValidatorInterfaceConsumer.as_asgi())])
SPEC = job_spec(args=["python3", "-c", "import time; time.sleep(3)"], timeout_s=60)


# --- against scripted miners: intervals, charges, countersignatures that never come or lie ---


def _record_verifies(record: ReceiptRecord) -> bool:
    return _both_signed(record.payload, record.validator_signature, record.miner_signature)


def runs_with_intervals(seconds: float, *, countersign_intervals: Callable[[int], bool] = lambda i: True) -> Script:
    """A miner whose job runs `seconds` (without blocking its link: offers are answered as they
    come) and that countersigns the intervals `countersign_intervals` picks, with a wrong key
    for the others."""

    async def finish_later(ws: ServerConnection, job_uuid: uuid.UUID) -> None:
        await asyncio.sleep(seconds)
        result = JobResult(exit_code=0, executor_seconds=seconds * 10)
        await ws.send(JobFinished(job_uuid=job_uuid, result=result).model_dump_json())

    tasks: list[asyncio.Task[None]] = []

    async def script(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobRun):
            for kind in (ExecutorReady, VolumeReady, JobStarted):
                await ws.send(kind(job_uuid=message.job_uuid).model_dump_json())
            tasks.append(asyncio.create_task(finish_later(ws, message.job_uuid)))
        elif isinstance(message, ReceiptOffer) and message.payload.kind == "interval":
            answer = countersigned_for(message)
            if not countersign_intervals(message.payload.index):
                answer = answer.model_copy(update={"signature": receipt_sign(message.payload, OTHER_KEY)})
            await ws.send(answer.model_dump_json())
        else:
            await complete(ws, message)

    return script


@pytest.mark.usefixtures("fast_deadlines")
async def test_a_running_job_gets_an_interval_receipt_and_a_charge_every_interval(
    run: SessionRun, settings: Any
) -> None:
    settings.VALIDATOR_RECEIPT_INTERVAL_S = 0.2
    await sync_to_async(OrganicJobFactory.create)(uuid=run.job_uuid, attempts=1)  # one attempt already failed elsewhere
    async with scripted_miner(run.miner_key, runs_with_intervals(0.9)) as address:
        ended = await run(address)
    stored = await sync_to_async(_validator_side)(run.job_uuid)
    intervals = sorted(i for kind, i in stored if kind == "interval")
    assert len(intervals) >= 2
    assert intervals == list(range(1, len(intervals) + 1))
    assert all(_record_verifies(stored[("interval", i)]) for i in intervals)
    total = sum(stored[("interval", i)].seconds or 0 for i in intervals)
    assert 0 < total <= ended.observed_seconds
    charges = await sync_to_async(_charges)(run.job_uuid)
    assert [c["index"] for c in charges] == intervals
    assert {c["attempt"] for c in charges} == {2}
    assert {c["miner_hotkey"] for c in charges} == {run.miner_key.ss58}
    assert [c["seconds"] for c in charges] == [stored[("interval", i)].seconds for i in intervals]
    assert Progress.CHARGED in run.progress
    assert _record_verifies(stored[("job_finished", 0)])


@pytest.mark.usefixtures("fast_deadlines")
async def test_an_interval_with_a_bad_countersignature_is_neither_stored_nor_charged(
    run: SessionRun, settings: Any
) -> None:
    settings.VALIDATOR_RECEIPT_INTERVAL_S = 0.2
    await sync_to_async(OrganicJobFactory.create)(uuid=run.job_uuid)
    async with scripted_miner(run.miner_key, runs_with_intervals(0.7, countersign_intervals=lambda i: i != 1)) as a:
        ended = await run(a)
    assert isinstance(ended.message, JobFinished)  # the job itself is not failed for it
    stored = await sync_to_async(_validator_side)(run.job_uuid)
    assert ("interval", 1) not in stored
    assert ("interval", 2) in stored
    assert 1 not in [c["index"] for c in await sync_to_async(_charges)(run.job_uuid)]


@pytest.mark.usefixtures("fast_deadlines")
async def test_a_finished_receipt_never_countersigned_is_kept_without_the_miners_signature(run: SessionRun) -> None:
    async def never_countersigns(ws: ServerConnection, message: Any) -> None:
        if not isinstance(message, ReceiptOffer):
            await complete(ws, message)

    async with scripted_miner(run.miner_key, never_countersigns) as address:
        ended = await run(address)
    assert isinstance(ended.message, JobFinished)
    finished = (await sync_to_async(_validator_side)(run.job_uuid))[("job_finished", 0)]
    assert finished.miner_signature == ""
    assert finished.outcome == "completed"
    assert all(run.job_uuid not in link.queues for link in run.links.links.values())


# --- through the real miner consumer and a real container ---------------------------------


@pytest.fixture
def docker_engine() -> docker.DockerClient:
    try:
        client = docker.from_env()
        client.ping()
        client.images.get(SPEC.image)
    except Exception as exc:
        pytest.skip(f"needs a Docker engine with {SPEC.image}: {exc}")
    return client


@contextlib.asynccontextmanager
async def miner_on_a_socket() -> AsyncIterator[str]:
    """The miner's consumer behind a real websocket server: each connection is bridged frame for
    frame to a fresh consumer instance; yields "host:port"."""

    async def bridge(ws: ServerConnection) -> None:
        comm = WebsocketCommunicator(application, MINER_PATH)
        connected, _ = await comm.connect()
        assert connected

        async def down() -> None:
            while True:
                event = await comm.receive_output(timeout=3600)
                if event["type"] == "websocket.close":
                    await ws.close()
                    return
                await ws.send(event["text"])

        pump = asyncio.create_task(down())
        try:
            async for raw in ws:
                await comm.send_to(text_data=raw)
        finally:
            pump.cancel()
            await comm.disconnect()

    async with serve(bridge, "127.0.0.1", 0) as server:
        yield f"127.0.0.1:{next(iter(server.sockets)).getsockname()[1]}"


def _validator_side(job_uuid: uuid.UUID) -> dict[tuple[str, int], ReceiptRecord]:
    return {(r.kind, r.index): r for r in ReceiptRecord.objects.filter(job_uuid=job_uuid)}


def _miner_side(job_uuid: uuid.UUID) -> dict[tuple[str, int], MinerReceipt]:
    return {(r.kind, r.index): r for r in MinerReceipt.objects.filter(job_uuid=job_uuid)}


def _charges(job_uuid: uuid.UUID) -> list[dict[str, Any]]:
    rows = FacilitatorOutbox.objects.filter(job_id=job_uuid).order_by("id")
    return [r.payload for r in rows if r.payload["type"] == "job.interval"]


def _both_signed(payload: dict[str, Any], validator_signature: str, miner_signature: str) -> bool:
    typed = PAYLOAD_ADAPTER.validate_python(payload)
    return signed_by(typed, signer="validator", signature=validator_signature) and signed_by(
        typed, signer="miner", signature=miner_signature
    )


@pytest.mark.docker
@pytest.mark.usefixtures("server_nonces")
async def test_a_job_through_a_real_miner_leaves_the_same_signed_receipts_on_both_sides(
    node_key: Hotkey,
    make_hotkey: Any,
    nonces: RedisNonceStore,
    executor_classes: Any,
    docker_engine: docker.DockerClient,
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.VALIDATOR_RECEIPT_INTERVAL_S = 1.0
    settings.EXECUTOR_WORK_DIR = tmp_path / "jobs"
    settings.MINER_IMAGE_ALLOWLIST = []
    settings.MIN_VALIDATOR_STAKE = 1
    validator = make_hotkey()
    await sync_to_async(KnownValidatorFactory.create)(hotkey=validator.ss58, stake=1)  # the miner admits it
    await sync_to_async(executor_hosts_sync)(executor_hosts_parse("local=local;cpu.small=1"))
    await sync_to_async(MinerFactory.create)(hotkey=node_key.ss58)  # the validator's registry row
    job_uuid = uuid.uuid4()
    await sync_to_async(OrganicJobFactory.create)(uuid=job_uuid)
    links = MinerLinks(hotkey=validator, nonces=nonces)
    progress: list[Progress] = []

    async def on_progress(event: Progress, detail: JobStarted | None) -> None:
        progress.append(event)

    async with miner_on_a_socket() as address:
        ended = await run_on_miner(
            job_uuid=job_uuid,
            spec=SPEC,
            miner=MinerTarget(hotkey=node_key.ss58, address=address),
            links=links,
            cancel=asyncio.Event(),
            on_progress=on_progress,
        )
        await links.close_all()
    assert isinstance(ended.message, JobFinished), ended

    ours = await sync_to_async(_validator_side)(job_uuid)
    theirs = await sync_to_async(_miner_side)(job_uuid)
    intervals = sorted(i for kind, i in ours if kind == "interval")
    assert len(intervals) >= 2  # a ~3 s job, one receipt a second
    assert intervals == list(range(1, len(intervals) + 1))
    expected = {("job_started", 0), ("job_accepted", 0), ("job_finished", 0)} | {("interval", i) for i in intervals}
    assert set(ours) == expected
    assert set(theirs) == expected
    for key in expected:
        mine, held = ours[key], theirs[key]
        assert mine.payload == held.payload, key
        assert (mine.validator_signature, mine.miner_signature) == (held.validator_signature, held.miner_signature)
        assert _both_signed(held.payload, held.validator_signature, held.miner_signature), key
    assert ours[("job_finished", 0)].outcome == "completed"
    billed = billed_seconds(result=ended.message.result, observed_seconds=ended.observed_seconds)
    assert ours[("job_finished", 0)].seconds == billed > 2

    charges = await sync_to_async(_charges)(job_uuid)
    assert [c["index"] for c in charges] == intervals
    assert {c["attempt"] for c in charges} == {1}
    assert Progress.CHARGED in progress

    # The miner serves every one of them to any validator.
    body = await sync_to_async(APIClient().get)("/api/v1/receipts/")
    served = ReceiptPage.model_validate(body.json())
    assert {(r.kind.value, r.payload.get("index", 0)) for r in served.results if r.job_uuid == job_uuid} == expected
