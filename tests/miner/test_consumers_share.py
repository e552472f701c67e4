"""The share standing over the validator interface: only a validator that subscribes gets it, at
once and then whenever it changed (a reservation accepted or declined, a job's end)."""

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

import miner.consumers
from protocol.messages.miner import JobCancel, ShareStanding, ShareSubscribe
from tests.factories import signed_reserve
from tests.miner.test_consumers import (
    FakeExecutor,
    _connect,
    _eventually,
    _job,
    _reserve,
    _send_run,
    _slot_holder,
    fake_executor,
    one_executor,
)

__all__ = ["fake_executor", "one_executor"]  # fixtures (one_executor autouse), imported to apply here

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_db", "server_nonces", "min_validator_stake"),
]


async def _standing(comm: WebsocketCommunicator) -> dict[str, Any]:
    frame = await comm.receive_json_from(timeout=3)
    assert frame["type"] == "share.standing", frame
    return ShareStanding.model_validate(frame).model_dump(mode="json")["classes"][0]


async def test_a_subscriber_gets_its_standing_at_once_and_on_every_change(
    admitted_validator_key, node_key, fake_executor: FakeExecutor, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(miner.consumers, "STANDING_MIN_INTERVAL_S", 0.0)
    comm = await _connect(admitted_validator_key, node_key.ss58)
    await comm.send_to(text_data=ShareSubscribe().model_dump_json())
    assert await _standing(comm) == {"executor_class": "cpu.small", "entitled": 1, "in_use": 0, "total": 1}
    job_uuid = uuid.uuid4()
    await _reserve(comm, job_uuid)
    assert await _standing(comm) == {"executor_class": "cpu.small", "entitled": 1, "in_use": 1, "total": 1}
    await comm.send_to(text_data=JobCancel(job_uuid=job_uuid).model_dump_json())
    assert (await comm.receive_json_from(timeout=3))["type"] == "job.cancelled"
    await comm.disconnect()


async def test_changes_within_the_interval_are_sent_once_after_it(
    admitted_validator_key, node_key, fake_executor: FakeExecutor, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(miner.consumers, "STANDING_MIN_INTERVAL_S", 0.3)
    comm = await _connect(admitted_validator_key, node_key.ss58)
    await comm.send_to(text_data=ShareSubscribe().model_dump_json())
    assert (await _standing(comm))["in_use"] == 0
    await _reserve(comm, uuid.uuid4())  # within the interval: the standing follows once it is over
    assert (await _standing(comm))["in_use"] == 1
    assert await comm.receive_nothing(timeout=0.5)
    await comm.disconnect()


async def test_without_a_subscription_no_standing_is_sent(admitted_validator_key, node_key, fake_executor):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    await _reserve(comm, uuid.uuid4())
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()


async def test_a_validator_within_its_share_gets_a_borrowed_executor_back(
    admitted_validator_key, node_key, fake_executor: FakeExecutor, min_validator_stake: int
):
    """The one executor is the big validator's share (stake 3:1), borrowed by the small one while the
    big one was idle. When the big one asks, the borrowed job is preempted (an infrastructure
    failure to its validator: retried elsewhere, never billed) and the executor is the big one's."""
    from protocol.keys import hotkey_create
    from tests.miner.factories import KnownValidatorFactory

    small = await _connect(admitted_validator_key, node_key.ss58)
    borrowed = uuid.uuid4()
    await _reserve(small, borrowed)
    await _send_run(small, borrowed)
    assert (await small.receive_json_from(timeout=3))["type"] == "job.started"

    big_key = hotkey_create()[0]
    await sync_to_async(KnownValidatorFactory.create)(hotkey=big_key.ss58, stake=3 * min_validator_stake)
    big = await _connect(big_key, node_key.ss58)
    reserve = signed_reserve(validator=big_key, miner_hotkey=node_key.ss58, job_uuid=uuid.uuid4())
    await big.send_to(text_data=reserve.model_dump_json())
    declined = await big.receive_json_from(timeout=3)
    assert (declined["type"], declined["reason"]) == ("job.declined", "busy")
    assert "being freed for you" in declined["detail"]

    ended = await small.receive_json_from(timeout=3)
    assert (ended["type"], ended["failure"]["kind"], ended["failure"]["reason"]) == (
        "job.failed", "infrastructure", "preempted",
    )  # fmt: skip
    assert await _eventually(lambda: _job(borrowed), ("failed", "preempted")) == ("failed", "preempted")
    await _reserve(big, uuid.uuid4())  # its share is its own again
    for comm in (small, big):
        await comm.disconnect()


async def test_a_validator_beyond_its_share_preempts_nobody(
    admitted_validator_key, node_key, fake_executor: FakeExecutor, min_validator_stake: int
):
    from protocol.keys import hotkey_create
    from tests.miner.factories import KnownValidatorFactory

    big_key = hotkey_create()[0]
    await sync_to_async(KnownValidatorFactory.create)(hotkey=big_key.ss58, stake=3 * min_validator_stake)
    big = await _connect(big_key, node_key.ss58)
    held = uuid.uuid4()
    await _reserve(big, held)
    small = await _connect(admitted_validator_key, node_key.ss58)
    reserve = signed_reserve(validator=admitted_validator_key, miner_hotkey=node_key.ss58, job_uuid=uuid.uuid4())
    await small.send_to(text_data=reserve.model_dump_json())
    declined = await small.receive_json_from(timeout=3)
    assert (declined["type"], declined["reason"]) == ("job.declined", "busy")
    assert "being freed" not in declined["detail"]
    assert await big.receive_nothing(timeout=0.5)  # the big validator's job within its share runs on
    assert await sync_to_async(_slot_holder)() == held
    for comm in (small, big):
        await comm.disconnect()
