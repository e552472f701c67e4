"""Checking one page: each refusal has its reason; a job's later receipts are held against its
`job_started`, from the same page or stored by an earlier pull."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from protocol.receipts import IntervalPayload, JobFinishedPayload, Receipt, ReceiptRefusal
from tests.validator.factories import MinerFactory
from tests.validator.receipts.miner_server import job_payloads, key, signed
from validator.models import ReceiptRecord
from validator.receipts.verify import receipt_check, receipts_check, receipts_plausible_store

pytestmark = pytest.mark.usefixtures("pull_settings")
VALIDATOR, MINER = key("validator"), key("miner")
COUNTED = frozenset({VALIDATOR.ss58})


def _check(payload: Any, *, validators: frozenset[str] = COUNTED) -> Any:
    receipt = Receipt.model_validate(signed(payload, validator=VALIDATOR, miner=MINER))
    return receipt_check(receipt, miner_hotkey=MINER.ss58, validators=validators, now=datetime.now(UTC))


def test_an_honest_jobs_receipts_hold() -> None:
    payloads = job_payloads(validator=VALIDATOR, miner=MINER)
    assert [_check(p) for p in payloads] == payloads


def test_a_receipt_of_an_uncounted_validator_is_refused_before_its_signatures() -> None:
    payload = job_payloads(validator=VALIDATOR, miner=MINER)[0]
    receipt = Receipt.model_validate(signed(payload, validator=VALIDATOR, miner=MINER))
    garbage = receipt.model_copy(update={"validator_signature": "00", "miner_signature": "00"})
    verdict = receipt_check(garbage, miner_hotkey=MINER.ss58, validators=frozenset(), now=datetime.now(UTC))
    assert verdict == ReceiptRefusal.UNKNOWN_VALIDATOR


def test_the_future_is_allowed_only_the_clock_skew(settings: Any) -> None:
    settings.VALIDATOR_RECEIPT_MAX_SKEW_S = 120.0
    soon = datetime.now(UTC) + timedelta(seconds=60)
    later = datetime.now(UTC) + timedelta(seconds=600)
    assert not isinstance(_check(job_payloads(validator=VALIDATOR, miner=MINER, at=soon)[2]), ReceiptRefusal)
    assert _check(job_payloads(validator=VALIDATOR, miner=MINER, at=later)[2]) == ReceiptRefusal.FROM_FUTURE


@pytest.mark.parametrize(
    "update",
    [
        {"started_at": None, "seconds": 5.0},  # never started, yet seconds
        {"seconds": 3600.0},  # more seconds than between its start and its signing
        {"started_at": "after its end"},  # started after it finished (set from the payload below)
    ],
    ids=["never-started", "longer-than-its-span", "started-after-at"],
)
def test_a_job_finished_with_impossible_times_is_implausible(update: dict[str, Any]) -> None:
    finished = job_payloads(validator=VALIDATOR, miner=MINER, seconds=30.0)[3]
    assert isinstance(finished, JobFinishedPayload)
    if update.get("started_at") == "after its end":  # relative to the payload: parameters are built at collection
        update = {"started_at": finished.at + timedelta(seconds=1)}
    assert _check(finished.model_copy(update=update)) == ReceiptRefusal.IMPLAUSIBLE


def test_items_that_are_not_receipts_are_malformed() -> None:
    good = signed(job_payloads(validator=VALIDATOR, miner=MINER)[0], validator=VALIDATOR, miner=MINER)
    checked = receipts_check(
        [good, None, "x", {**good, "payload": {"kind": "job_started"}}, {**good, "kind": "interval"}],
        miner_hotkey=MINER.ss58,
        validators=COUNTED,
    )
    assert len(checked.accepted) == 1
    assert checked.refused == {"malformed": 3, "mismatch": 1}


@pytest.mark.django_db
def test_later_receipts_are_held_against_a_job_started_stored_before() -> None:
    miner = MinerFactory.create(hotkey=MINER.ss58)
    started, accepted, interval, finished = job_payloads(validator=VALIDATOR, miner=MINER, timeout_s=60, seconds=30)
    first = receipts_check(
        [signed(started, validator=VALIDATOR, miner=MINER)], miner_hotkey=MINER.ss58, validators=COUNTED
    )
    assert receipts_plausible_store(miner=miner, checked=first).accepted == 1

    assert isinstance(interval, IntervalPayload)
    too_long = interval.model_copy(update={"seconds": 600.0})  # the job's timeout is 60 s
    other_class = accepted.model_copy(update={"executor_class": "gpu.big"})
    page = [signed(p, validator=VALIDATOR, miner=MINER) for p in (too_long, other_class, finished)]
    result = receipts_plausible_store(
        miner=miner, checked=receipts_check(page, miner_hotkey=MINER.ss58, validators=COUNTED)
    )
    assert (result.accepted, result.refused) == (1, {"implausible": 2})
    assert set(ReceiptRecord.objects.values_list("kind", flat=True)) == {"job_started", "job_finished"}


@pytest.mark.django_db
def test_a_job_with_no_known_start_is_stored_as_it_proves_itself() -> None:
    miner = MinerFactory.create(hotkey=MINER.ss58)
    _, _, interval, _ = job_payloads(validator=VALIDATOR, miner=MINER)
    checked = receipts_check(
        [signed(interval, validator=VALIDATOR, miner=MINER)], miner_hotkey=MINER.ss58, validators=COUNTED
    )
    assert receipts_plausible_store(miner=miner, checked=checked).accepted == 1
