"""A reservation that carries its payload (JobReserve.spec): the miner that accepts starts the job
at once, without a JobRun; one that declines starts nothing; a spec that disagrees with the
reservation is refused as malformed."""

import uuid

import pytest
from asgiref.sync import sync_to_async
from pydantic import ValidationError

from miner.models import AcceptedJob
from protocol.messages.miner import JobCancel, JobReserve
from tests.factories import job_spec, signed_reserve
from tests.miner.test_consumers import _connect, _job, _slot_holder, fake_executor, one_executor

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_db", "server_nonces", "min_validator_stake"),
]
__all__ = ["fake_executor", "one_executor"]  # fixtures (one_executor autouse), imported to apply here


def _pipelined(comm, job_uuid: uuid.UUID) -> JobReserve:
    reserve = signed_reserve(validator=comm.validator_key, miner_hotkey=comm.miner_ss58, job_uuid=job_uuid)
    spec = job_spec(executor_class=reserve.executor_class, image=reserve.image, timeout_s=reserve.timeout_s)
    return reserve.model_copy(update={"spec": spec})


async def test_an_accepted_reservation_with_its_payload_starts_the_job_without_a_job_run(
    admitted_validator_key, node_key, fake_executor
):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    job_uuid = uuid.uuid4()
    reserve = _pipelined(comm, job_uuid)
    await comm.send_to(text_data=reserve.model_dump_json())
    assert (await comm.receive_json_from(timeout=3))["type"] == "job.accepted"
    assert (await comm.receive_json_from(timeout=3))["type"] == "job.started"
    assert [(r.job_uuid, r.spec) for r in fake_executor.runs] == [(job_uuid, reserve.spec)]
    assert await sync_to_async(_slot_holder)() == job_uuid
    assert await sync_to_async(_job)(job_uuid) == (AcceptedJob.Status.RUNNING, "")
    await comm.send_to(text_data=JobCancel(job_uuid=job_uuid).model_dump_json())
    assert (await comm.receive_json_from(timeout=3))["type"] == "job.cancelled"
    await comm.disconnect()


async def test_a_declined_reservation_with_its_payload_starts_nothing(admitted_validator_key, node_key, fake_executor):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    first, second = uuid.uuid4(), uuid.uuid4()
    await comm.send_to(text_data=_pipelined(comm, first).model_dump_json())
    assert (await comm.receive_json_from(timeout=3))["type"] == "job.accepted"
    assert (await comm.receive_json_from(timeout=3))["type"] == "job.started"
    await comm.send_to(text_data=_pipelined(comm, second).model_dump_json())  # the one executor is taken
    declined = await comm.receive_json_from(timeout=3)
    assert (declined["type"], declined["reason"]) == ("job.declined", "busy")
    assert [r.job_uuid for r in fake_executor.runs] == [first]
    await comm.disconnect()


def test_a_payload_that_is_not_the_reservations_is_malformed(admitted_validator_key) -> None:
    reserve = signed_reserve(validator=admitted_validator_key, miner_hotkey=admitted_validator_key.ss58)
    other = job_spec(executor_class=reserve.executor_class, image=reserve.image, timeout_s=reserve.timeout_s + 1)
    with pytest.raises(ValidationError, match="differs from the reservation"):
        JobReserve.model_validate(reserve.model_dump() | {"spec": other.model_dump()})
