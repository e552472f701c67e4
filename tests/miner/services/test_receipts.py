"""The miner's receipt checks (miner/services/receipts.py) called directly: every reason an
offered receipt is refused, the same offer answered twice alike, and the reservation's receipts
countersigned and stored (the consumer tests cover the same over the wire)."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from miner.models import MinerReceipt
from miner.services.receipts import ReceiptRefused, receipt_offer_countersign, reservation_receipts_store
from protocol.keys import Hotkey, hotkey_create
from protocol.messages.miner import JobAccepted, ReceiptOffer
from protocol.receipts import IntervalPayload, JobFinishedPayload, Outcome, receipt_sign, signed_by
from tests.factories import signed_reserve
from tests.miner.factories import AcceptedJobFactory

pytestmark = pytest.mark.django_db
VALIDATOR, OTHER = hotkey_create()[0], hotkey_create()[0]


@pytest.fixture
def accepted(node_key: Hotkey) -> JobAccepted:
    """A 60 s cpu.small job VALIDATOR reserved here, with its reservation receipts stored."""
    reserve = signed_reserve(validator=VALIDATOR, miner_hotkey=node_key.ss58, timeout_s=60)
    AcceptedJobFactory.create(uuid=reserve.job_uuid, validator_hotkey=VALIDATOR.ss58)
    return reservation_receipts_store(reserve=reserve, own=node_key)


def _interval(accepted: JobAccepted, *, signer: Hotkey = VALIDATOR, **over: Any) -> ReceiptOffer:
    fields = accepted.accepted.payload.model_dump(exclude={"kind", "at"}) | {"at": datetime.now(UTC)}
    payload = IntervalPayload.model_validate(fields | {"index": 1, "seconds": 10.0} | over)
    return ReceiptOffer(payload=payload, signature=receipt_sign(payload, signer))


def test_the_reservations_receipts_are_countersigned_and_stored(accepted: JobAccepted, node_key: Hotkey) -> None:
    rows = {r.kind: r for r in MinerReceipt.objects.filter(job_uuid=accepted.job_uuid)}
    assert set(rows) == {"job_started", "job_accepted"}
    assert rows["job_started"].miner_signature == accepted.started_countersignature
    assert rows["job_accepted"].miner_signature == accepted.accepted.signature
    assert accepted.accepted.payload.miner_hotkey == node_key.ss58
    assert signed_by(accepted.accepted.payload, signer="miner", signature=accepted.accepted.signature)


@pytest.mark.parametrize(
    ("over", "signer", "detail"),
    [
        ({"seconds": 120.5}, VALIDATOR, "interval receipt: seconds exceed the job's timeout (60s)"),
        ({"netuid": 9}, VALIDATOR, "interval receipt: netuid is not 1"),
        ({"executor_class": "cpu.large"}, VALIDATOR, "interval receipt: executor_class is not the job's"),
        ({"miner_hotkey": OTHER.ss58}, VALIDATOR, "interval receipt: miner_hotkey is not this miner"),
        ({}, OTHER, "interval receipt: the validator's signature does not verify"),
    ],
)
def test_an_offer_this_miner_does_not_sign_is_refused_with_the_reason(
    accepted: JobAccepted, node_key: Hotkey, over: dict[str, Any], signer: Hotkey, detail: str
) -> None:
    with pytest.raises(ReceiptRefused) as info:
        receipt_offer_countersign(
            offer=_interval(accepted, signer=signer, **over), validator_hotkey=VALIDATOR.ss58, own=node_key
        )
    assert str(info.value) == detail
    assert not MinerReceipt.objects.filter(kind="interval").exists()


def test_an_offer_from_another_validator_is_refused_even_for_a_job_reserved_here(
    accepted: JobAccepted, node_key: Hotkey
) -> None:
    with pytest.raises(ReceiptRefused, match="was not reserved here by this validator"):
        receipt_offer_countersign(offer=_interval(accepted), validator_hotkey=OTHER.ss58, own=node_key)


def test_a_finished_offer_is_countersigned_once_and_the_same_offer_gets_the_same_answer(
    accepted: JobAccepted, node_key: Hotkey
) -> None:
    fields = accepted.accepted.payload.model_dump(exclude={"kind", "at"}) | {"at": datetime.now(UTC)}
    payload = JobFinishedPayload(**fields, started_at=None, seconds=3.5, outcome=Outcome.COMPLETED)
    offer = ReceiptOffer(payload=payload, signature=receipt_sign(payload, VALIDATOR))
    first = receipt_offer_countersign(offer=offer, validator_hotkey=VALIDATOR.ss58, own=node_key)
    # A re-offer signs the same payload anew (sr25519 signatures differ each time): same answer.
    again = ReceiptOffer(payload=payload, signature=receipt_sign(payload, VALIDATOR))
    assert receipt_offer_countersign(offer=again, validator_hotkey=VALIDATOR.ss58, own=node_key) == first
    assert signed_by(payload, signer="miner", signature=first)
    assert MinerReceipt.objects.filter(kind="job_finished", job_uuid=uuid.UUID(str(payload.job_uuid))).count() == 1


def test_an_offer_for_an_index_already_countersigned_with_other_content_is_refused(
    accepted: JobAccepted, node_key: Hotkey
) -> None:
    receipt_offer_countersign(offer=_interval(accepted, seconds=5.0), validator_hotkey=VALIDATOR.ss58, own=node_key)
    with pytest.raises(ReceiptRefused) as info:
        receipt_offer_countersign(offer=_interval(accepted, seconds=6.0), validator_hotkey=VALIDATOR.ss58, own=node_key)
    assert str(info.value) == "interval receipt #1: a different one was already countersigned"
    assert MinerReceipt.objects.get(kind="interval").payload["seconds"] == 5.0
