"""The miner's validator interface over a real websocket handshake: reservations that are never
followed up, cancels before the executor starts, and validators that vanish with work in hand."""

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import docker
import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

import miner.consumers
from executor.services.hosts import executor_hosts_parse
from miner.consumers import ValidatorInterfaceConsumer
from miner.models import AcceptedJob, ExecutorSlot
from miner.services.executors import executor_hosts_sync
from protocol.handshake import handshake_build
from protocol.keys import Hotkey
from protocol.messages.common import ErrorCode
from protocol.messages.executor import ExecutorRun
from protocol.messages.jobs import JobCancelled, JobStarted
from protocol.messages.miner import (
    JobAccepted,
    JobCancel,
    JobRun,
)
from protocol.receipts import signed_by
from tests.factories import job_spec, signed_reserve

PATH = "/v1/miner/"
# The consumer reads and writes from its own database thread: rows must be committed.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_db", "server_nonces", "min_validator_stake"),
]
application = URLRouter([path("v1/miner/", ValidatorInterfaceConsumer.as_asgi())])


@pytest.fixture(autouse=True)
def one_executor(node_key: Hotkey, executor_classes: dict, settings: Any) -> None:
    """This miner (node_key) has one cpu.small executor on the local engine."""
    settings.MINER_IMAGE_ALLOWLIST = []
    executor_hosts_sync(executor_hosts_parse("local=local;cpu.small=1"))


class FakeExecutor:
    """Stands in for `executor_start` where no container should ever start: records each start and
    runs until cancelled, then reports the cancel as the real executor does."""

    def __init__(self) -> None:
        self.runs: list[ExecutorRun] = []

    def __call__(
        self, *, run: ExecutorRun, docker_url: str, cancel: asyncio.Event, emit: Callable[[Any], Any]
    ) -> asyncio.Task[None]:
        self.runs.append(run)

        async def work() -> None:
            await emit(JobStarted(job_uuid=run.job_uuid))
            await cancel.wait()
            await emit(JobCancelled(job_uuid=run.job_uuid))

        return asyncio.create_task(work())


@pytest.fixture
def fake_executor(monkeypatch: pytest.MonkeyPatch) -> FakeExecutor:
    fake = FakeExecutor()
    monkeypatch.setattr(miner.consumers, "executor_start", fake)
    return fake


async def _connect(validator: Hotkey, miner_ss58: str) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(application, PATH)
    connected, _ = await comm.connect()
    assert connected
    hello = handshake_build(hotkey=validator, peer_hotkey=miner_ss58, path=PATH)
    await comm.send_to(text_data=hello.model_dump_json())
    reply = await comm.receive_json_from(timeout=3)
    assert reply["type"] == "handshake", reply
    manifest = await comm.receive_json_from(timeout=3)  # sent right after the handshake
    assert manifest["type"] == "miner.manifest", manifest
    comm.validator_key, comm.miner_ss58 = validator, miner_ss58  # for the signed reservations below
    return comm


async def _reserve(comm: WebsocketCommunicator, job_uuid: uuid.UUID, *, timeout_s: int = 60) -> JobAccepted:
    """Reserve with a good signed receipt; the miner must accept with its receipts in order."""
    reserve = signed_reserve(
        validator=comm.validator_key, miner_hotkey=comm.miner_ss58, job_uuid=job_uuid, timeout_s=timeout_s
    )
    await comm.send_to(text_data=reserve.model_dump_json())
    accepted = JobAccepted.model_validate(await comm.receive_json_from(timeout=3))
    assert accepted.job_uuid == job_uuid
    assert signed_by(reserve.started.payload, signer="miner", signature=accepted.started_countersignature)
    assert signed_by(accepted.accepted.payload, signer="miner", signature=accepted.accepted.signature)
    assert accepted.accepted.payload.job_uuid == job_uuid
    return accepted


async def _send_run(comm: WebsocketCommunicator, job_uuid: uuid.UUID, **spec: Any) -> None:
    await comm.send_to(text_data=JobRun(job_uuid=job_uuid, spec=job_spec(**spec)).model_dump_json())


def _slot_holder() -> uuid.UUID | None:
    return ExecutorSlot.objects.get().job_uuid


def _job(job_uuid: uuid.UUID) -> tuple[str, str]:
    job = AcceptedJob.objects.get(uuid=job_uuid)
    return job.status, job.failure_reason


async def _eventually(check: Callable[[], Any], expected: Any, timeout: float = 5.0) -> Any:
    """Polls `check` (run in the database thread) until it returns `expected` or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        result = await sync_to_async(check)()
        if result == expected or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.02)


# --- reservation expiry ---------------------------------------------------------------------


async def test_a_reservation_not_followed_by_the_job_in_time_frees_the_executor(
    admitted_validator_key, node_key, fake_executor, monkeypatch
):
    monkeypatch.setattr(miner.consumers, "RESERVATION_TTL_S", 0.2)
    comm = await _connect(admitted_validator_key, node_key.ss58)
    job_uuid = uuid.uuid4()
    await _reserve(comm, job_uuid)
    assert await sync_to_async(_slot_holder)() == job_uuid

    assert await _eventually(_slot_holder, None) is None
    assert await sync_to_async(_job)(job_uuid) == (AcceptedJob.Status.CANCELLED, "reservation_expired")
    # The payload arriving after the expiry is refused, so the validator learns the reservation is
    # gone, and nothing runs.
    await _send_run(comm, job_uuid)
    error = await comm.receive_json_from(timeout=3)
    assert (error["type"], error["code"]) == ("error", ErrorCode.UNEXPECTED)
    assert f"job {job_uuid} is not reserved here" == error["detail"]
    assert fake_executor.runs == []
    # The freed executor takes the next job.
    await _reserve(comm, uuid.uuid4())
    await comm.disconnect()


async def test_a_reservation_followed_in_time_does_not_expire(
    admitted_validator_key, node_key, fake_executor, monkeypatch
):
    monkeypatch.setattr(miner.consumers, "RESERVATION_TTL_S", 0.3)
    comm = await _connect(admitted_validator_key, node_key.ss58)
    job_uuid = uuid.uuid4()
    await _reserve(comm, job_uuid)
    await _send_run(comm, job_uuid)
    assert (await comm.receive_json_from(timeout=3))["type"] == "job.started"
    await asyncio.sleep(0.5)  # well past the reservation's lifetime
    assert await sync_to_async(_slot_holder)() == job_uuid
    assert await sync_to_async(_job)(job_uuid) == (AcceptedJob.Status.RUNNING, "")
    assert [r.job_uuid for r in fake_executor.runs] == [job_uuid]
    await comm.send_to(text_data=JobCancel(job_uuid=job_uuid).model_dump_json())
    assert await comm.receive_json_from(timeout=3) == {
        "type": "job.cancelled",
        "job_uuid": str(job_uuid),
        "result": None,
    }
    await comm.disconnect()


# --- cancel before run ----------------------------------------------------------------------


async def test_a_cancel_after_accept_and_before_the_run_frees_the_executor_and_starts_nothing(
    admitted_validator_key, node_key, fake_executor
):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    job_uuid = uuid.uuid4()
    await _reserve(comm, job_uuid)

    await comm.send_to(text_data=JobCancel(job_uuid=job_uuid).model_dump_json())
    assert await comm.receive_json_from(timeout=3) == {
        "type": "job.cancelled",
        "job_uuid": str(job_uuid),
        "result": None,
    }
    assert await sync_to_async(_slot_holder)() is None
    assert await sync_to_async(_job)(job_uuid) == (AcceptedJob.Status.CANCELLED, "")
    # A payload sent after the cancel is refused rather than run.
    await _send_run(comm, job_uuid)
    assert (await comm.receive_json_from(timeout=3))["code"] == ErrorCode.UNEXPECTED
    assert fake_executor.runs == []
    await comm.disconnect()


async def test_a_cancel_for_a_job_not_held_here_changes_nothing(admitted_validator_key, node_key, fake_executor):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    job_uuid = uuid.uuid4()
    await _reserve(comm, job_uuid)
    await comm.send_to(text_data=JobCancel(job_uuid=uuid.uuid4()).model_dump_json())
    assert await comm.receive_nothing(timeout=0.3)
    assert await sync_to_async(_slot_holder)() == job_uuid
    await comm.disconnect()


# --- disconnect cleanup ---------------------------------------------------------------------


async def test_a_validator_leaving_with_a_reservation_frees_the_executor(
    admitted_validator_key, node_key, fake_executor
):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    job_uuid = uuid.uuid4()
    await _reserve(comm, job_uuid)
    await comm.disconnect()
    assert await sync_to_async(_slot_holder)() is None
    assert await sync_to_async(_job)(job_uuid) == (AcceptedJob.Status.CANCELLED, "reservation_expired")
    assert fake_executor.runs == []


async def test_a_validator_leaving_mid_job_cancels_the_work_and_frees_the_executor(
    admitted_validator_key, node_key, fake_executor
):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    job_uuid = uuid.uuid4()
    await _reserve(comm, job_uuid)
    await _send_run(comm, job_uuid)
    assert (await comm.receive_json_from(timeout=3))["type"] == "job.started"
    await comm.disconnect()
    # Nobody is left to collect the result: the work is cancelled and its end recorded anyway.
    assert await _eventually(_slot_holder, None) is None
    assert await _eventually(lambda: _job(job_uuid), (AcceptedJob.Status.CANCELLED, "")) == (
        AcceptedJob.Status.CANCELLED,
        "",
    )


@pytest.fixture
def docker_engine() -> docker.DockerClient:
    try:
        client = docker.from_env()
        client.ping()
        client.images.get(job_spec().image)
    except Exception as exc:
        pytest.skip(f"needs a Docker engine with {job_spec().image}: {exc}")
    return client


@pytest.mark.docker
async def test_a_validator_leaving_mid_job_kills_the_real_container(
    admitted_validator_key, node_key, docker_engine, settings, tmp_path
):
    settings.EXECUTOR_WORK_DIR = tmp_path / "jobs"
    comm = await _connect(admitted_validator_key, node_key.ss58)
    job_uuid = uuid.uuid4()
    await _reserve(comm, job_uuid)
    await _send_run(comm, job_uuid, args=["python3", "-c", "import time; time.sleep(60)"], timeout_s=120)
    while (frame := await comm.receive_json_from(timeout=30))["type"] != "job.started":
        assert frame["type"] in ("job.executor_ready", "job.volume_ready"), frame
    owned = {"label": f"meshwork.owner={node_key.ss58}"}
    assert len(docker_engine.containers.list(filters=owned)) == 1
    await comm.disconnect()
    assert await _eventually(lambda: _job(job_uuid)[0], AcceptedJob.Status.CANCELLED, timeout=30) == "cancelled"
    assert await sync_to_async(_slot_holder)() is None
    assert docker_engine.containers.list(all=True, filters=owned) == []
