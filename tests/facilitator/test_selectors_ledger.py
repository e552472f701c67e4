"""The ledger's reads: `credit_history` (newest first, balance_after by window) and
`credit_ledger_check` (balance == Σ added − Σ charged; held == what unfinished jobs still hold),
over money moved by the real services: grants, top-ups, holds, intervals, retries, settlement,
storage."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from facilitator.models import CreditAccount, CreditTransaction, StoredObject
from facilitator.selectors import credit_history, credit_ledger_check
from facilitator.services.intervals import credits_charge_interval
from facilitator.services.ledger import credits_add
from facilitator.services.status import job_apply_status_update
from facilitator.services.storage_billing import storage_bill_due
from protocol.messages.facilitator import JobIntervalCharge, JobStatusUpdate
from tests.facilitator.factories import CreditAccountFactory, facilitator_job
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
VALIDATOR = "5Validator"


def _report(job, status, *, seconds=None, failure=None) -> None:
    result = None if seconds is None else {"exit_code": 0, "executor_seconds": seconds}
    update = JobStatusUpdate.model_validate(
        {"job_uuid": job.uuid, "status": status, "result": result, "failure": failure, "miner_hotkey": "5M"}
    )
    assert job_apply_status_update(validator_hotkey=VALIDATOR, update=update)


def _interval(job, attempt, index) -> None:
    charge = JobIntervalCharge(job_uuid=job.uuid, attempt=attempt, index=index, seconds=600.0, miner_hotkey="5M")
    assert credits_charge_interval(validator_hotkey=VALIDATOR, charge=charge)


def _balance(user) -> Decimal:
    return CreditAccount.objects.get(user=user).balance


def test_history_is_newest_first_with_the_balance_after_each_row_and_the_invariants_hold(executor_classes, settings):
    user = UserFactory.create()
    balances = []

    def step() -> None:
        balances.append(_balance(user))
        assert credit_ledger_check() == []  # at every step, also while jobs still hold credits

    credits_add(user=user, amount=Decimal(10), kind="grant", by="command")
    step()
    job = facilitator_job(user=user, timeout_s=3600)  # holds 3.6: no row, balance unchanged
    _report(job, "running")
    _interval(job, 1, 1)
    step()
    _report(job, "dispatched", failure=None)  # an infrastructure retry: attempt 1 refunded
    step()
    _report(job, "running")
    _interval(job, 2, 1)
    step()
    credits_add(user=user, amount=Decimal("2.5"), kind="topup")
    step()
    _report(job, "completed", seconds=700.0)
    step()
    settings.STORAGE_PRICE_PER_GB_HOUR = 0.5
    at = timezone.now() - timedelta(hours=1)
    StoredObject.objects.create(
        user=user, name="o", size=10**9, sha256="0" * 64, status="stored", stored_at=at, billed_until=at
    )
    assert storage_bill_due() > 0
    step()

    rows = list(credit_history(user=user).values("id", "kind", "job", "balance_after"))
    assert [r["kind"] for r in rows] == ["storage", "charge", "topup", "interval", "refund", "interval", "grant"]
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    assert [r["balance_after"] for r in reversed(rows)] == balances  # each step made one row
    assert rows[1]["job"] == job.uuid
    assert rows[0]["balance_after"] == _balance(user)


def test_a_kind_filter_keeps_the_running_balance_of_every_row(funded_user):
    credits_add(user=funded_user, amount=Decimal(5), kind="topup")
    credits_add(user=funded_user, amount=Decimal(1), kind="grant")
    credits_add(user=funded_user, amount=Decimal(2), kind="topup")
    topups = list(credit_history(user=funded_user, kind="topup").values_list("amount", "balance_after"))
    assert topups == [(Decimal(2), Decimal(108)), (Decimal(5), Decimal(105))]
    assert credit_history(user=funded_user, kind="topup").count() == 2
    assert list(credit_history(user=funded_user, kind="storage")) == []


def test_history_is_only_the_users_own(funded_user):
    other = UserFactory.create()
    credits_add(user=other, amount=Decimal(7), kind="grant")
    assert [r.amount for r in credit_history(user=funded_user)] == [Decimal(100)]
    assert [r.amount for r in credit_history(user=other)] == [Decimal(7)]
    assert list(credit_history(user=UserFactory.create())) == []


def test_the_check_names_an_account_whose_balance_or_held_is_not_its_ledgers(funded_user):
    CreditAccountFactory.create(user__username="edited", balance=Decimal(50))  # a balance without its rows
    job = facilitator_job(user=funded_user, timeout_s=1000)
    CreditAccount.objects.filter(user=funded_user).update(held=Decimal(3))  # 1 is really held
    assert credit_ledger_check() == [
        {
            "username": funded_user.username,
            "balance": Decimal(100),
            "ledger": Decimal(100),
            "held": Decimal(3),
            "open_holds": job.hold,
        },
        {"username": "edited", "balance": Decimal(50), "ledger": Decimal(0), "held": Decimal(0), "open_holds": 0},
    ]
    assert CreditTransaction.objects.count() == 1
