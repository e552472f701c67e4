"""Receipts end to end (validator/job_receipts.py with miner/consumers.py): the validator's real
session drives a ~3 s job through the miner's real consumer (bridged onto a real socket) and a
real container, with an interval receipt every second. Both sides end up holding the same
receipts, both signatures each, and the facilitator is owed one interval charge per interval."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
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
from protocol.keys import Hotkey
from protocol.messages.jobs import JobFinished
from protocol.nonces import RedisNonceStore
from protocol.receipts import PAYLOAD_ADAPTER, ReceiptPage, signed_by
from tests.factories import job_spec
from tests.miner.factories import KnownValidatorFactory
from tests.validator.factories import MinerFactory, OrganicJobFactory
from validator.miner_links import MINER_PATH, MinerLinks
from validator.miner_session import MinerTarget, Progress, run_on_miner
from validator.models import FacilitatorOutbox, ReceiptRecord
from validator.services.own_receipts import billed_seconds

pytestmark = [
    pytest.mark.docker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_db", "server_nonces"),
]
application = URLRouter([path("v1/miner/", ValidatorInterfaceConsumer.as_asgi())])
SPEC = job_spec(args=["python3", "-c", "import time; time.sleep(3)"], timeout_s=60)


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

    async def on_progress(event: Progress, detail: str | None) -> None:
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
