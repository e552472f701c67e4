"""The facilitator's validator channel over the real Redis channel layer, handshake first."""

import asyncio
import json
import time
import uuid
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.urls import path

import protocol.consumer
from chain.interface import Role
from chain.local import LocalChain
from facilitator.consumers import ValidatorChannelConsumer
from facilitator.models import Job, ValidatorSession
from facilitator.services.jobs import job_create
from protocol.canonical import canonical_json
from protocol.consumer import CloseCode
from protocol.handshake import handshake_build, handshake_verify
from protocol.keys import hotkey_create
from protocol.messages.jobs import JobStatus
from protocol.nonces import RedisNonceStore
from tests.factories import job_spec

PATH = "/v1/facilitator/"
# Tests that reach `authorize` (chain lookups, sessions, jobs) need committed rows: the consumer
# reads them from another thread. Handshake refusals happen before any database access.
db = pytest.mark.django_db(transaction=True)


class QuickTimeoutConsumer(ValidatorChannelConsumer):
    handshake_timeout_s = 0.3


application = URLRouter(
    [
        path("v1/facilitator/", ValidatorChannelConsumer.as_asgi()),
        path("quick/v1/facilitator/", QuickTimeoutConsumer.as_asgi()),
    ]
)


@pytest.fixture(autouse=True)
async def server_nonces(monkeypatch, nonce_prefix):
    """The consumer's process-wide nonce store, fresh for this test's event loop and key prefix."""
    store = RedisNonceStore(prefix=nonce_prefix)
    monkeypatch.setattr(protocol.consumer, "_store", store)
    yield store
    await store.close()


@pytest.fixture
def stranger():
    """A validator key that is on no chain: enough for refusals decided before `authorize`."""
    return hotkey_create()[0]


@pytest.fixture
def validator(node_key, executor_classes):
    hotkey = hotkey_create()[0]
    chain = LocalChain()
    chain.register(hotkey=hotkey.ss58, coldkey=hotkey_create()[0].ss58, role=Role.VALIDATOR)
    chain.add_stake(hotkey=hotkey.ss58, amount=settings.MIN_VALIDATOR_STAKE)
    return hotkey


async def _open(url=PATH):
    comm = WebsocketCommunicator(application, url)
    connected, _ = await comm.connect()
    assert connected
    return comm


async def _closed_with(comm) -> int:
    event = await comm.receive_output(timeout=2)
    assert event["type"] == "websocket.close"
    return event["code"]


async def _error(comm) -> dict:
    frame = await comm.receive_json_from(timeout=2)
    assert frame["type"] == "error", frame
    return frame


async def _connect(validator, server_ss58, *, url=PATH):
    """Open a connection and complete the handshake as `validator`; returns (comm, reply)."""
    comm = await _open(url)
    hello = handshake_build(hotkey=validator, peer_hotkey=server_ss58, path=PATH)
    await comm.send_to(text_data=hello.model_dump_json())
    reply = await comm.receive_json_from(timeout=3)
    assert reply["type"] == "handshake", reply
    return comm, hello, reply


async def _eventually(check, timeout=3.0):
    deadline = time.monotonic() + timeout
    while True:
        result = await sync_to_async(check)()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.02)


def _status(job_uuid, status, **extra) -> str:
    return json.dumps({"type": "job.status", "job_uuid": str(job_uuid), "status": status, **extra})


def _job_for(user, validator_hotkey: str, status=JobStatus.DISPATCHED) -> Job:
    job = job_create(user=user, spec=job_spec())
    Job.objects.filter(uuid=job.uuid).update(status=status, validator_hotkey=validator_hotkey)
    return job


# --- handshake ---------------------------------------------------------------------------


@db
async def test_good_handshake_gets_a_signed_reply_answering_our_nonce(validator, node_key, nonces):
    comm, hello, reply = await _connect(validator, node_key.ss58)
    from protocol.messages.common import Handshake

    message = Handshake.model_validate(reply)
    await handshake_verify(
        message=message,
        own_hotkey=validator.ss58,
        path=PATH,
        nonces=nonces,
        max_age_s=settings.HANDSHAKE_MAX_AGE_S,
        expected_peer=node_key.ss58,
        expected_peer_nonce=hello.nonce,
    )
    assert await _eventually(
        lambda: ValidatorSession.objects.filter(hotkey=validator.ss58, disconnected_at=None).count() == 1
    )
    await comm.disconnect()
    assert await _eventually(lambda: ValidatorSession.objects.get(hotkey=validator.ss58).disconnected_at is not None)


async def test_first_frame_must_be_a_handshake(stranger, node_key):
    comm = await _open()
    await comm.send_to(text_data=_status(uuid.uuid4(), "running"))
    error = await _error(comm)
    assert error["code"] == "malformed"
    assert await _closed_with(comm) == CloseCode.UNAUTHENTICATED


async def test_garbage_first_frame_is_refused(stranger, node_key):
    comm = await _open()
    await comm.send_to(text_data="hello?")
    assert (await _error(comm))["code"] == "malformed"
    assert await _closed_with(comm) == CloseCode.UNAUTHENTICATED


async def test_oversized_handshake_is_refused(stranger, node_key):
    comm = await _open()
    await comm.send_to(text_data=json.dumps({"type": "handshake", "pad": "x" * 70_000}))
    assert (await _error(comm))["code"] == "too_large"
    assert await _closed_with(comm) == CloseCode.UNAUTHENTICATED


async def test_no_handshake_in_time_closes(stranger, node_key):
    comm = await _open("/quick" + PATH)
    assert await _closed_with(comm) == CloseCode.HANDSHAKE_TIMEOUT


async def test_forged_handshake_is_refused(stranger, node_key):
    comm = await _open()
    hello = handshake_build(hotkey=stranger, peer_hotkey=node_key.ss58, path=PATH)
    forged = hello.model_copy(update={"signature": hotkey_create()[0].sign(canonical_json(hello.signed_fields()))})
    await comm.send_to(text_data=forged.model_dump_json())
    error = await _error(comm)
    assert error["code"] == "unauthenticated"
    assert "bad signature" in error["detail"]
    assert await _closed_with(comm) == CloseCode.UNAUTHENTICATED


async def test_stale_handshake_is_refused(stranger, node_key):
    import time_machine

    with time_machine.travel(time.time() - settings.HANDSHAKE_MAX_AGE_S - 10, tick=False):
        hello = handshake_build(hotkey=stranger, peer_hotkey=node_key.ss58, path=PATH)
    comm = await _open()
    await comm.send_to(text_data=hello.model_dump_json())
    error = await _error(comm)
    assert error["code"] == "unauthenticated"
    assert "timestamp" in error["detail"]
    assert await _closed_with(comm) == CloseCode.UNAUTHENTICATED


@db
async def test_replayed_handshake_is_refused(validator, node_key):
    hello = handshake_build(hotkey=validator, peer_hotkey=node_key.ss58, path=PATH)
    first = await _open()
    await first.send_to(text_data=hello.model_dump_json())
    assert (await first.receive_json_from(timeout=3))["type"] == "handshake"
    # An eavesdropper replays the same hello on a new connection.
    second = await _open()
    await second.send_to(text_data=hello.model_dump_json())
    error = await _error(second)
    assert error["code"] == "unauthenticated"
    assert "replayed" in error["detail"]
    assert await _closed_with(second) == CloseCode.UNAUTHENTICATED
    await first.disconnect()


async def test_handshake_for_another_node_is_refused(stranger, node_key):
    other = hotkey_create()[0]
    comm = await _open()
    await comm.send_to(text_data=handshake_build(hotkey=stranger, peer_hotkey=other.ss58, path=PATH).model_dump_json())
    error = await _error(comm)
    assert error["code"] == "unauthenticated"
    assert "another node" in error["detail"]
    assert await _closed_with(comm) == CloseCode.UNAUTHENTICATED


async def test_handshake_signed_for_the_miner_path_is_refused(stranger, node_key):
    comm = await _open()
    hello = handshake_build(hotkey=stranger, peer_hotkey=node_key.ss58, path="/v1/miner/")
    await comm.send_to(text_data=hello.model_dump_json())
    assert "path" in (await _error(comm))["detail"]
    assert await _closed_with(comm) == CloseCode.UNAUTHENTICATED


@db
async def test_unregistered_validator_is_unauthorized(node_key, executor_classes):
    stranger = hotkey_create()[0]
    comm = await _open()
    await comm.send_to(
        text_data=handshake_build(hotkey=stranger, peer_hotkey=node_key.ss58, path=PATH).model_dump_json()
    )
    error = await _error(comm)
    assert error["code"] == "unauthorized"
    assert "not registered" in error["detail"]
    assert await _closed_with(comm) == CloseCode.UNAUTHORIZED
    assert await sync_to_async(ValidatorSession.objects.count)() == 0


@db
async def test_under_staked_validator_is_unauthorized(node_key, executor_classes):
    poor = hotkey_create()[0]
    chain = LocalChain()
    await sync_to_async(chain.register)(hotkey=poor.ss58, coldkey=hotkey_create()[0].ss58, role=Role.VALIDATOR)
    await sync_to_async(chain.add_stake)(hotkey=poor.ss58, amount=settings.MIN_VALIDATOR_STAKE - 1)
    comm = await _open()
    await comm.send_to(text_data=handshake_build(hotkey=poor, peer_hotkey=node_key.ss58, path=PATH).model_dump_json())
    error = await _error(comm)
    assert error["code"] == "unauthorized"
    assert "stake" in error["detail"]
    assert await _closed_with(comm) == CloseCode.UNAUTHORIZED


@db
async def test_a_miner_cannot_connect_as_a_validator(node_key, executor_classes):
    miner = hotkey_create()[0]
    chain = LocalChain()
    await sync_to_async(chain.register)(hotkey=miner.ss58, coldkey=hotkey_create()[0].ss58, role=Role.MINER)
    await sync_to_async(chain.add_stake)(hotkey=miner.ss58, amount=settings.MIN_VALIDATOR_STAKE * 10)
    comm = await _open()
    await comm.send_to(text_data=handshake_build(hotkey=miner, peer_hotkey=node_key.ss58, path=PATH).model_dump_json())
    assert "not a validator" in (await _error(comm))["detail"]
    assert await _closed_with(comm) == CloseCode.UNAUTHORIZED


@db
async def test_a_second_handshake_after_authentication_is_just_an_unknown_frame(validator, node_key):
    comm, _, _ = await _connect(validator, node_key.ss58)
    again = handshake_build(hotkey=validator, peer_hotkey=node_key.ss58, path=PATH)
    await comm.send_to(text_data=again.model_dump_json())
    assert (await _error(comm))["code"] == "unknown_type"
    assert await comm.receive_nothing(timeout=0.2)
    await comm.disconnect()


# --- after the handshake -------------------------------------------------------------------


@db
async def test_bad_frames_get_typed_errors_and_the_connection_keeps_serving(validator, node_key, funded_user):
    job = await sync_to_async(_job_for)(funded_user, validator.ss58)
    comm, _, _ = await _connect(validator, node_key.ss58)
    await comm.receive_json_from(timeout=3)  # the resend of the job it holds

    await comm.send_to(text_data="{not json")
    assert (await _error(comm))["code"] == "malformed"
    await comm.send_to(text_data=json.dumps({"type": "job.explode", "job_uuid": str(job.uuid)}))
    error = await _error(comm)
    assert error["code"] == "unknown_type"
    assert "job.explode" in error["detail"]
    await comm.send_to(text_data=json.dumps({"type": "job.status", "job_uuid": str(job.uuid)}))
    error = await _error(comm)
    assert error["code"] == "malformed"
    assert "status" in error["detail"]
    await comm.send_to(text_data="[1, 2, 3]")
    assert (await _error(comm))["code"] == "malformed"
    await comm.send_to(bytes_data=b"\xff\xfe")
    assert (await _error(comm))["code"] == "malformed"

    # Still serving: a valid update is applied.
    await comm.send_to(text_data=_status(job.uuid, "running", miner_hotkey="5Miner"))
    assert await _eventually(lambda: Job.objects.get(uuid=job.uuid).status == JobStatus.RUNNING)
    refreshed = await sync_to_async(Job.objects.get)(uuid=job.uuid)
    assert refreshed.miner_hotkey == "5Miner"
    assert refreshed.started_at is not None
    await comm.disconnect()


@db
async def test_error_frame_from_the_validator_is_logged_not_answered(validator, node_key):
    # On the quick consumer: once authenticated, the handshake timer no longer closes the link.
    comm, _, _ = await _connect(validator, node_key.ss58, url="/quick" + PATH)
    await comm.send_json_to({"type": "error", "code": "internal", "detail": "validator hiccup"})
    assert await comm.receive_nothing(timeout=QuickTimeoutConsumer.handshake_timeout_s + 0.2)
    await comm.send_to(text_data="ping")
    assert (await _error(comm))["code"] == "malformed"
    await comm.disconnect()


@db
async def test_failing_handler_answers_internal_and_keeps_serving(validator, node_key, funded_user, monkeypatch):
    import facilitator.consumers
    from facilitator.services.status import job_apply_status_update

    job = await sync_to_async(_job_for)(funded_user, validator.ss58)
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return job_apply_status_update(**kwargs)

    monkeypatch.setattr(facilitator.consumers, "job_apply_status_update", flaky)
    comm, _, _ = await _connect(validator, node_key.ss58)
    await comm.receive_json_from(timeout=3)  # resend
    await comm.send_to(text_data=_status(job.uuid, "running"))
    error = await _error(comm)
    assert (error["code"], error["detail"]) == ("internal", "handler failed")
    await comm.send_to(text_data=_status(job.uuid, "running"))
    assert await _eventually(lambda: Job.objects.get(uuid=job.uuid).status == JobStatus.RUNNING)
    await comm.disconnect()


@db
async def test_job_created_while_connected_is_delivered(validator, node_key, funded_user):
    comm, _, _ = await _connect(validator, node_key.ss58)
    assert await _eventually(lambda: ValidatorSession.objects.filter(disconnected_at=None).exists())
    spec = job_spec(args=["echo", "hi"], env={"A": "1"}, timeout_s=30)
    job = await sync_to_async(job_create)(user=funded_user, spec=spec)
    frame = await comm.receive_json_from(timeout=3)
    assert frame == {"type": "job.request", "job_uuid": str(job.uuid), "spec": spec.model_dump(mode="json")}
    dispatched = await sync_to_async(Job.objects.get)(uuid=job.uuid)
    assert (dispatched.status, dispatched.validator_hotkey) == (JobStatus.DISPATCHED, validator.ss58)
    # The validator reports back over the same connection and the job moves on.
    await comm.send_to(text_data=_status(job.uuid, "running", miner_hotkey="5Miner"))
    await comm.send_to(
        text_data=_status(
            job.uuid,
            "completed",
            result={"exit_code": 0, "stdout": "hi\n", "stderr": "", "executor_seconds": 2.0},
        )
    )
    assert await _eventually(lambda: Job.objects.get(uuid=job.uuid).status == JobStatus.COMPLETED)
    done = await sync_to_async(Job.objects.get)(uuid=job.uuid)
    assert (done.stdout, done.exit_code, done.cost) == ("hi\n", 0, Decimal("0.002"))
    await comm.disconnect()


@db
async def test_pending_jobs_are_dispatched_when_a_validator_connects(validator, node_key, funded_user):
    job = await sync_to_async(job_create)(user=funded_user, spec=job_spec())
    assert (await sync_to_async(Job.objects.get)(uuid=job.uuid)).status == JobStatus.PENDING
    comm, _, _ = await _connect(validator, node_key.ss58)
    frame = await comm.receive_json_from(timeout=3)
    assert (frame["type"], frame["job_uuid"]) == ("job.request", str(job.uuid))
    assert (await sync_to_async(Job.objects.get)(uuid=job.uuid)).validator_hotkey == validator.ss58
    await comm.disconnect()


@db
async def test_reconnecting_validator_gets_its_jobs_and_cancels_again(validator, node_key, funded_user):
    from django.utils import timezone

    held = await sync_to_async(_job_for)(funded_user, validator.ss58, JobStatus.RUNNING)
    cancelling = await sync_to_async(_job_for)(funded_user, validator.ss58)
    await sync_to_async(Job.objects.filter(uuid=cancelling.uuid).update)(cancel_requested_at=timezone.now())
    comm, _, _ = await _connect(validator, node_key.ss58)
    frames = [await comm.receive_json_from(timeout=3) for _ in range(3)]
    assert sorted((f["type"], f["job_uuid"]) for f in frames) == sorted(
        [
            ("job.request", str(held.uuid)),
            ("job.request", str(cancelling.uuid)),
            ("job.cancel", str(cancelling.uuid)),
        ]
    )
    assert await comm.receive_nothing(timeout=0.2)
    await comm.disconnect()


@db
async def test_update_from_a_validator_the_job_was_not_sent_to_is_ignored(validator, node_key, funded_user):
    other = hotkey_create()[0]
    chain = LocalChain()
    await sync_to_async(chain.register)(hotkey=other.ss58, coldkey=hotkey_create()[0].ss58, role=Role.VALIDATOR)
    await sync_to_async(chain.add_stake)(hotkey=other.ss58, amount=settings.MIN_VALIDATOR_STAKE)
    theirs = await sync_to_async(_job_for)(funded_user, validator.ss58)
    mine = await sync_to_async(_job_for)(funded_user, other.ss58)
    comm, _, _ = await _connect(other, node_key.ss58)
    await comm.receive_json_from(timeout=3)  # resend of `mine`
    await comm.send_to(
        text_data=_status(
            theirs.uuid, "completed", result={"exit_code": 0, "stdout": "forged", "executor_seconds": 600}
        )
    )
    await comm.send_to(text_data=_status(mine.uuid, "running"))
    # Frames are handled in order: once `mine` moved, the forged update was handled (and ignored).
    assert await _eventually(lambda: Job.objects.get(uuid=mine.uuid).status == JobStatus.RUNNING)
    untouched = await sync_to_async(Job.objects.get)(uuid=theirs.uuid)
    assert (untouched.status, untouched.stdout, untouched.cost) == (JobStatus.DISPATCHED, "", None)
    await comm.disconnect()
