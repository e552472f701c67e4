"""Storing verified receipts: once each per miner; a replay (same receipt, other content) refused;
a job retried on a second miner keeps both miners' receipts."""

from typing import Any

import pytest

from protocol.receipts import Receipt, ReceiptPayload, ReceiptRefusal
from tests.validator.factories import MinerFactory
from tests.validator.receipts.miner_server import job_payloads, key, signed
from validator.models import Miner, ReceiptRecord
from validator.services.receipts import receipts_store

pytestmark = pytest.mark.django_db
VALIDATOR = key("validator")


def _pairs(payloads: list[ReceiptPayload], miner_key: Any) -> list[tuple[ReceiptPayload, Receipt]]:
    return [(p, Receipt.model_validate(signed(p, validator=VALIDATOR, miner=miner_key))) for p in payloads]


def _miner(name: str) -> tuple[Miner, Any]:
    hotkey = key(name)
    return MinerFactory.create(hotkey=hotkey.ss58), hotkey


def test_a_receipt_is_stored_once_and_a_second_copy_is_a_duplicate() -> None:
    miner, hotkey = _miner("m1")
    pairs = _pairs(job_payloads(validator=VALIDATOR, miner=hotkey), hotkey)
    first = receipts_store(miner=miner, receipts=pairs, source=ReceiptRecord.Source.PULLED)
    again = receipts_store(miner=miner, receipts=pairs + pairs[:1], source=ReceiptRecord.Source.PULLED)
    assert (first.accepted, first.duplicates, first.refused) == (4, 0, {})
    assert (again.accepted, again.duplicates, again.refused) == (0, 5, {})  # one twice in the batch
    assert ReceiptRecord.objects.filter(miner=miner).count() == 4


def test_the_same_receipt_with_other_content_is_a_replay_and_changes_nothing() -> None:
    miner, hotkey = _miner("m1")
    payloads = job_payloads(validator=VALIDATOR, miner=hotkey, seconds=30.0)
    receipts_store(miner=miner, receipts=_pairs(payloads, hotkey), source=ReceiptRecord.Source.PULLED)
    inflated = payloads[2].model_copy(update={"seconds": 3000.0})  # interval 1 again, 100× the seconds
    result = receipts_store(miner=miner, receipts=_pairs([inflated], hotkey), source=ReceiptRecord.Source.PULLED)
    assert (result.accepted, result.refused) == (0, {ReceiptRefusal.REPLAYED.value: 1})
    assert ReceiptRecord.objects.get(miner=miner, kind="interval").seconds == 30.0


def test_a_job_retried_on_another_miner_keeps_both_miners_receipts() -> None:
    first, first_key = _miner("m1")
    second, second_key = _miner("m2")
    payloads = job_payloads(validator=VALIDATOR, miner=first_key)
    on_second = [p.model_copy(update={"miner_hotkey": second_key.ss58}) for p in payloads]  # same job uuid
    receipts_store(miner=first, receipts=_pairs(payloads[:3], first_key), source=ReceiptRecord.Source.OWN)
    result = receipts_store(miner=second, receipts=_pairs(on_second, second_key), source=ReceiptRecord.Source.OWN)
    assert (result.accepted, result.refused) == (4, {})
    assert ReceiptRecord.objects.filter(job_uuid=payloads[0].job_uuid).count() == 7
