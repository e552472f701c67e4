"""The ledger's reads: `credit_history` (newest first, balance_after by window) and
`credit_ledger_check` (balance == Σ added − Σ charged; held == what unfinished jobs still hold),
over money moved by the real services: grants, top-ups, holds, intervals, retries, settlement,
storage."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facilitator.models import CreditAccount, CreditTransaction, StoredObject
from facilitator.selectors import credit_history, credit_ledger_check
from facilitator.services.credits import InsufficientCredits
from facilitator.services.intervals import credits_charge_interval
from facilitator.services.ledger import credits_add
from facilitator.services.status import job_apply_status_update
from facilitator.services.storage_billing import storage_bill_due
from protocol.messages.facilitator import JobIntervalCharge, JobStatusUpdate
from tests.facilitator.factories import CreditAccountFactory, facilitator_job
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
VALIDATOR = "5Validator"


def _report(job, status, *, seconds=None, failure=None) -> bool:
    result = None if seconds is None else {"exit_code": 0, "executor_seconds": seconds}
    update = JobStatusUpdate.model_validate(
        {"job_uuid": job.uuid, "status": status, "result": result, "failure": failure, "miner_hotkey": "5M"}
    )
    return job_apply_status_update(validator_hotkey=VALIDATOR, update=update)


def _interval(job, attempt, index, seconds=600.0) -> Decimal | None:
    charge = JobIntervalCharge(job_uuid=job.uuid, attempt=attempt, index=index, seconds=seconds, miner_hotkey="5M")
    return credits_charge_interval(validator_hotkey=VALIDATOR, charge=charge)


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
    assert _report(job, "running")
    assert _interval(job, 1, 1)
    step()
    assert _report(job, "dispatched", failure=None)  # an infrastructure retry: attempt 1 refunded
    step()
    assert _report(job, "running")
    assert _interval(job, 2, 1)
    step()
    credits_add(user=user, amount=Decimal("2.5"), kind="topup")
    step()
    assert _report(job, "completed", seconds=700.0)
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


JOB_FAULT = {"kind": "job", "reason": "nonzero_exit"}
INFRA = {"kind": "infrastructure", "reason": "miner_lost"}
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.decimals("0.000001", "50", places=6), st.sampled_from(["grant", "topup"])),
        st.tuples(st.just("submit"), st.integers(20, 5000)),
        st.tuples(st.just("run"), st.integers(0, 2)),
        st.tuples(st.just("interval"), st.integers(0, 2), st.integers(1, 20), st.floats(1, 2000)),
        st.tuples(st.just("retry"), st.integers(0, 2)),
        st.tuples(
            st.just("end"),
            st.integers(0, 2),
            st.sampled_from([("completed", None), ("timeout", None), ("failed", JOB_FAULT), ("failed", INFRA)]),
            st.none() | st.floats(0, 5000),
        ),
    ),
    max_size=14,
)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_the_invariants_hold_after_any_mix_of_credits_jobs_intervals_retries_and_endings(executor_classes, ops):
    user = UserFactory.create()
    credits_add(user=user, amount=Decimal(5), kind="grant")
    jobs: list = []
    attempts: dict = {}
    for op in ops:
        job = jobs[op[1] % len(jobs)] if jobs and op[0] not in ("add", "submit") else None
        if op[0] == "add":
            credits_add(user=user, amount=op[1], kind=op[2])
        elif op[0] == "submit":
            try:
                jobs.append(facilitator_job(user=user, timeout_s=op[1]))
                attempts[jobs[-1].uuid] = 1
            except InsufficientCredits:
                pass
        elif job is not None and op[0] == "run":
            _report(job, "running")
        elif job is not None and op[0] == "interval":
            _interval(job, attempts[job.uuid], op[2], op[3])
        elif job is not None and op[0] == "retry":
            if _report(job, "dispatched"):
                attempts[job.uuid] += 1
        elif job is not None and op[0] == "end":
            (status, failure), seconds = op[2], op[3]
            _report(job, status, seconds=seconds, failure=failure)
        assert credit_ledger_check() == []
        newest = credit_history(user=user).first()
        assert newest is not None
        assert newest.balance_after == _balance(user)
