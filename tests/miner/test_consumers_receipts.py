"""The miner's receipts over a real websocket handshake: a reservation whose receipt is not the
job's, or not the sender's, is declined; accepted ones store both receipts and take the
countersignature; interval offers are countersigned once; NUL bytes in a reservation are refused."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from miner.models import AcceptedJob, MinerReceipt
from protocol.keys import Hotkey, hotkey_create
from protocol.messages.common import ErrorCode
from protocol.messages.miner import (
    DeclineReason,
    JobAccepted,
    JobReserve,
    ReceiptCountersign,
    ReceiptCountersigned,
    ReceiptOffer,
)
from protocol.receipts import IntervalPayload, receipt_sign, signed_by
from tests.factories import signed_reserve
from tests.miner.test_consumers import _connect, _reserve, _slot_holder, fake_executor, one_executor

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_db", "server_nonces", "min_validator_stake"),
]
__all__ = ["fake_executor", "one_executor"]  # fixtures (one_executor autouse), imported to apply here


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
