"""The share standing over the validator interface: only a validator that subscribes gets it, at
once and then whenever it changed (a reservation accepted or declined, a job's end)."""

import uuid
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

import miner.consumers
from protocol.messages.miner import JobCancel, ShareStanding, ShareSubscribe
from tests.miner.test_consumers import FakeExecutor, _connect, _reserve, fake_executor, one_executor

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
