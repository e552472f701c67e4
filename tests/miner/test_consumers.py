"""The miner's validator interface over a real websocket handshake: reservations that are never
followed up, cancels before the executor starts, and validators that vanish with work in hand."""

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
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
from miner.models import AcceptedJob, ExecutorSlot, MinerReceipt
from miner.services.executors import executor_hosts_sync
from protocol.handshake import handshake_build
from protocol.keys import Hotkey, hotkey_create
from protocol.messages.common import ErrorCode
from protocol.messages.executor import ExecutorRun
from protocol.messages.jobs import JobCancelled, JobStarted
from protocol.messages.miner import (
    DeclineReason,
    JobAccepted,
    JobCancel,
    JobReserve,
    JobRun,
    ReceiptCountersign,
    ReceiptCountersigned,
    ReceiptOffer,
)
from protocol.receipts import IntervalPayload, receipt_sign, signed_by
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


# --- receipts -------------------------------------------------------------------------------


def _receipts(job_uuid: uuid.UUID) -> dict[tuple[str, int], MinerReceipt]:
    return {(r.kind, r.index): r for r in MinerReceipt.objects.filter(job_uuid=job_uuid)}


async def _declined(comm: WebsocketCommunicator, reserve: JobReserve) -> dict[str, Any]:
    await comm.send_to(text_data=reserve.model_dump_json())
    reply = await comm.receive_json_from(timeout=3)
    assert (reply["type"], reply["reason"]) == ("job.declined", DeclineReason.BAD_RECEIPT), reply
    assert await sync_to_async(_slot_holder)() is None  # nothing was claimed for it
    assert await sync_to_async(_receipts)(reserve.job_uuid) == {}
    return reply


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        ({"miner_hotkey": "other"}, "job_started receipt: miner_hotkey is not this miner"),
        ({"netuid": 77}, "job_started receipt: netuid is not 1"),
        ({"timeout_s": 61}, "job_started receipt: timeout_s differs from the reservation's"),
        ({"executor_class": "cpu.large"}, "job_started receipt: executor_class differs from the reservation's"),
        ({"job_uuid": uuid.uuid4()}, "job_started receipt: job_uuid differs from the reservation's"),
    ],
)
async def test_a_reservation_whose_receipt_is_not_this_job_is_declined_as_a_bad_receipt(
    admitted_validator_key, node_key, fake_executor, overrides, detail, make_hotkey
):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    if overrides.get("miner_hotkey") == "other":
        overrides = {"miner_hotkey": make_hotkey().ss58}
    reserve = signed_reserve(validator=admitted_validator_key, miner_hotkey=node_key.ss58, receipt=overrides)
    assert (await _declined(comm, reserve))["detail"] == detail
    await comm.disconnect()


async def test_a_reservation_signed_by_someone_else_is_declined_as_a_bad_receipt(
    admitted_validator_key, node_key, fake_executor, make_hotkey
):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    forged = signed_reserve(validator=admitted_validator_key, miner_hotkey=node_key.ss58, signer=make_hotkey())
    detail = (await _declined(comm, forged))["detail"]
    assert detail == "job_started receipt: the validator's signature does not verify"
    # A receipt naming another validator, even signed by it, is not the sender's.
    other = make_hotkey()
    foreign = signed_reserve(validator=other, miner_hotkey=node_key.ss58)
    assert (await _declined(comm, foreign))["detail"] == "job_started receipt: validator_hotkey is not the sender"
    await comm.disconnect()


async def test_an_accepted_reservation_stores_both_receipts_and_takes_the_validators_countersignature(
    admitted_validator_key, node_key, fake_executor
):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    job_uuid = uuid.uuid4()
    accepted = await _reserve(comm, job_uuid)
    stored = await sync_to_async(_receipts)(job_uuid)
    assert set(stored) == {("job_started", 0), ("job_accepted", 0)}
    assert stored[("job_started", 0)].miner_signature == accepted.started_countersignature
    assert stored[("job_accepted", 0)].validator_signature == ""  # until the validator countersigns

    # A countersignature that does not verify is refused and not kept.
    other = receipt_sign(accepted.accepted.payload, hotkey_create()[0])
    await comm.send_to(text_data=ReceiptCountersign(job_uuid=job_uuid, signature=other).model_dump_json())
    error = await comm.receive_json_from(timeout=3)
    assert (error["code"], error["detail"]) == (
        ErrorCode.REFUSED,
        "job_accepted countersignature: the validator's signature does not verify",
    )
    good = receipt_sign(accepted.accepted.payload, admitted_validator_key)
    await comm.send_to(text_data=ReceiptCountersign(job_uuid=job_uuid, signature=good).model_dump_json())
    assert await comm.receive_nothing(timeout=0.3)
    stored = await sync_to_async(_receipts)(job_uuid)
    assert stored[("job_accepted", 0)].validator_signature == good
    await comm.disconnect()


def _offer(
    validator: Hotkey, accepted: JobAccepted, *, seconds: float = 1.0, index: int = 1, **over: Any
) -> ReceiptOffer:
    fields = accepted.accepted.payload.model_dump(exclude={"kind", "at"}) | {"at": datetime.now(UTC)}
    payload = IntervalPayload.model_validate(fields | {"index": index, "seconds": seconds} | over)
    return ReceiptOffer(payload=payload, signature=receipt_sign(payload, validator))


async def _answer(comm: WebsocketCommunicator, offer: ReceiptOffer) -> dict[str, Any]:
    await comm.send_to(text_data=offer.model_dump_json())
    return await comm.receive_json_from(timeout=3)


async def test_an_offered_interval_is_countersigned_once_and_the_same_offer_gets_the_same_answer(
    admitted_validator_key, node_key, fake_executor
):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    job_uuid = uuid.uuid4()
    accepted = await _reserve(comm, job_uuid)
    offer = _offer(admitted_validator_key, accepted, seconds=5.0)
    first = ReceiptCountersigned.model_validate(await _answer(comm, offer))
    assert (first.job_uuid, first.kind, first.index) == (job_uuid, "interval", 1)
    assert signed_by(offer.payload, signer="miner", signature=first.signature)
    again = ReceiptCountersigned.model_validate(await _answer(comm, offer))
    assert again.signature == first.signature
    stored = (await sync_to_async(_receipts)(job_uuid))[("interval", 1)]
    assert (stored.validator_signature, stored.miner_signature) == (offer.signature, first.signature)

    await comm.disconnect()


async def test_an_offer_for_a_job_not_reserved_here_is_refused(admitted_validator_key, node_key, fake_executor):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    accepted = await _reserve(comm, uuid.uuid4())
    unknown = uuid.uuid4()
    error = await _answer(comm, _offer(admitted_validator_key, accepted, job_uuid=unknown))
    assert (error["type"], error["code"], error["detail"]) == (
        "error",
        ErrorCode.REFUSED,
        f"interval receipt: job {unknown} was not reserved here by this validator",
    )
    assert await sync_to_async(_receipts)(unknown) == {}
    await comm.disconnect()


@pytest.mark.parametrize("field", ["image", "executor_class"])
async def test_a_reservation_with_a_nul_in_its_text_is_refused_as_malformed_not_a_database_error(
    admitted_validator_key, node_key, fake_executor, field
):
    # Found by tests/fuzz: the NUL reached Postgres, which raised DataError (an INTERNAL answer).
    comm = await _connect(admitted_validator_key, node_key.ss58)
    frame = signed_reserve(validator=admitted_validator_key, miner_hotkey=node_key.ss58).model_dump(mode="json")
    frame[field] += "\x00"
    frame["started"]["payload"]["executor_class"] = frame["executor_class"]
    await comm.send_json_to(frame)
    error = await comm.receive_json_from(timeout=3)
    assert (error["type"], error["code"]) == ("error", "malformed")
    assert f"job.reserve.{field}: Value error, NUL characters are not allowed" in error["detail"]
    assert await sync_to_async(AcceptedJob.objects.count)() == 0
    # Still serving: a clean reservation is accepted.
    await _reserve(comm, uuid.uuid4())
    await comm.disconnect()
