import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from facilitator.models import CreditAccount, CreditTransaction, Job
from facilitator.services.cancel import job_cancel
from facilitator.services.credits import InsufficientCredits, credits_grant, credits_hold
from facilitator.services.jobs import job_create
from facilitator.services.status import job_apply_status_update
from protocol.messages.facilitator import JobStatusUpdate
from protocol.messages.jobs import JobStatus
from tests.facilitator.factories import FUNDED_CREDITS, CreditTransactionFactory, facilitator_job
from tests.factories import UserFactory, job_spec

pytestmark = pytest.mark.django_db
VALIDATOR = "5Validator"


def _account(user) -> CreditAccount:
    return CreditAccount.objects.get(user=user)


def _report(job, status, *, seconds=None, failure=None, detail=""):
    result = None if seconds is None else {"exit_code": 0, "executor_seconds": seconds}
    update = JobStatusUpdate.model_validate(
        {"job_uuid": job.uuid, "status": status, "result": result, "failure": failure, "detail": detail}
    )
    return job_apply_status_update(validator_hotkey=VALIDATOR, update=update)


def _charges(job) -> list[Decimal]:
    return list(CreditTransaction.objects.filter(job=job, kind="charge").values_list("amount", flat=True))


def test_grant_adds_to_the_balance_and_is_recorded(executor_classes):
    user = UserFactory.create()
    credits_grant(user=user, amount=Decimal("1.5"), note="welcome")
    account = credits_grant(user=user, amount=Decimal("2.25"))
    assert (account.balance, account.held) == (Decimal("3.75"), Decimal(0))
    assert list(account.transactions.order_by("id").values_list("kind", "amount", "note")) == [
        ("grant", Decimal("1.5"), "welcome"),
        ("grant", Decimal("2.25"), ""),
    ]


def test_create_holds_timeout_times_price(funded_user):
    job = job_create(user=funded_user, spec=job_spec(executor_class="cpu.large", timeout_s=250))
    assert (job.price_per_second, job.hold) == (Decimal("0.004"), Decimal("1.000"))
    account = _account(funded_user)
    assert (account.balance, account.held) == (FUNDED_CREDITS, Decimal(1))


def test_create_refused_when_balance_is_below_timeout_times_price(funded_user):
    # 100 credits hold 25000 s of cpu.large; 25001 s may cost more than the user has.
    with pytest.raises(InsufficientCredits) as info:
        job_create(user=funded_user, spec=job_spec(executor_class="cpu.large", timeout_s=25001))
    assert (info.value.needed, info.value.available) == (Decimal("100.004"), FUNDED_CREDITS)
    assert Job.objects.count() == 0
    assert _account(funded_user).held == 0
    job_create(user=funded_user, spec=job_spec(executor_class="cpu.large", timeout_s=25000))
    assert _account(funded_user).held == FUNDED_CREDITS


def test_hold_for_a_user_without_account_is_refused(executor_classes):
    user = UserFactory.create()
    with pytest.raises(InsufficientCredits):
        credits_hold(user=user, amount=Decimal("0.000001"))
    credits_hold(user=user, amount=Decimal(0))  # a free job needs no credits
    assert _account(user).held == 0


def test_completed_job_is_charged_executor_seconds_times_price(funded_user):
    job = facilitator_job(user=funded_user, executor_class="cpu.large", timeout_s=600)
    assert _report(job, JobStatus.RUNNING)
    assert _report(job, JobStatus.COMPLETED, seconds=12.5)
    job.refresh_from_db()
    assert job.cost == Decimal("0.05")
    assert _charges(job) == [Decimal("0.05")]
    account = _account(funded_user)
    assert (account.balance, account.held) == (FUNDED_CREDITS - Decimal("0.05"), Decimal(0))


def test_cost_is_rounded_to_micro_credits(funded_user):
    job = facilitator_job(user=funded_user)
    assert _report(job, JobStatus.COMPLETED, seconds=0.0123456789)
    job.refresh_from_db()
    assert job.cost == Decimal("0.000012")


@pytest.mark.parametrize(
    ("status", "failure", "charged"),
    [
        (JobStatus.FAILED, {"kind": "job", "reason": "nonzero_exit"}, True),
        (JobStatus.FAILED, {"kind": "job", "reason": "bad_image"}, True),
        (JobStatus.TIMEOUT, {"kind": "job", "reason": "timeout"}, True),
        (JobStatus.FAILED, {"kind": "infrastructure", "reason": "miner_lost"}, False),
        (JobStatus.REJECTED, {"kind": "infrastructure", "reason": "no_miner"}, False),
        (JobStatus.REJECTED, None, False),
    ],
)
def test_who_pays_for_failures(funded_user, status, failure, charged):
    job = facilitator_job(user=funded_user, timeout_s=600)
    assert _report(job, JobStatus.RUNNING)
    assert _report(job, status, seconds=100, failure=failure)
    job.refresh_from_db()
    expected = Decimal("0.1") if charged else Decimal(0)
    assert job.cost == expected
    assert _charges(job) == ([expected] if charged else [])
    account = _account(funded_user)
    assert (account.balance, account.held) == (FUNDED_CREDITS - expected, Decimal(0))


def test_cancelled_before_start_is_not_charged(funded_user):
    pending = facilitator_job(user=funded_user, status="pending")
    job_cancel(job=pending)
    dispatched = facilitator_job(user=funded_user)
    job_cancel(job=dispatched)
    assert _report(dispatched, JobStatus.CANCELLED, seconds=0)
    for job in (pending, dispatched):
        job.refresh_from_db()
        assert (job.status, job.cost, job.started_at) == (JobStatus.CANCELLED, Decimal(0), None)
        assert _charges(job) == []
    account = _account(funded_user)
    assert (account.balance, account.held) == (FUNDED_CREDITS, Decimal(0))


def test_cancelled_after_start_is_charged_for_the_time_used(funded_user):
    job = facilitator_job(user=funded_user)
    assert _report(job, JobStatus.RUNNING)
    job_cancel(job=job)
    assert _report(job, JobStatus.CANCELLED, seconds=30)
    job.refresh_from_db()
    assert (job.status, job.cost) == (JobStatus.CANCELLED, Decimal("0.03"))
    assert _account(funded_user).balance == FUNDED_CREDITS - Decimal("0.03")


def test_charge_never_exceeds_the_hold(funded_user):
    job = facilitator_job(user=funded_user, timeout_s=60)
    # A miner claiming more time than the timeout allows is billed the hold, no more.
    assert _report(job, JobStatus.COMPLETED, seconds=5000)
    job.refresh_from_db()
    assert job.cost == job.hold == Decimal("0.06")
    account = _account(funded_user)
    assert (account.balance, account.held) == (FUNDED_CREDITS - Decimal("0.06"), Decimal(0))


def test_a_job_is_charged_once_whatever_is_reported(funded_user):
    job = facilitator_job(user=funded_user)
    assert _report(job, JobStatus.COMPLETED, seconds=10)
    assert not _report(job, JobStatus.COMPLETED, seconds=10)
    assert not _report(job, JobStatus.FAILED, seconds=99, failure={"kind": "job", "reason": "nonzero_exit"})
    assert _charges(job) == [Decimal("0.01")]
    account = _account(funded_user)
    assert (account.balance, account.held) == (FUNDED_CREDITS - Decimal("0.01"), Decimal(0))


def test_one_charge_per_job_constraint(funded_user):
    job = facilitator_job(user=funded_user)
    account = _account(funded_user)
    CHARGE, GRANT = CreditTransaction.Kind.CHARGE, CreditTransaction.Kind.GRANT
    CreditTransactionFactory.create(account=account, job=job, kind=CHARGE, amount=Decimal(1))
    # Grants and charges of other jobs are not limited.
    CreditTransactionFactory.create(account=account, job=job, kind=GRANT, amount=Decimal(1))
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditTransactionFactory.create(account=account, job=job, kind=CHARGE, amount=Decimal(1))
    assert CreditTransaction.objects.filter(job=job, kind=CHARGE).count() == 1


def test_held_and_balance_cannot_go_negative(funded_user):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(user=funded_user).update(held=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(user=funded_user).update(balance=-1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_cannot_overdraw(executor_classes):
    user = UserFactory.create()
    credits_grant(user=user, amount=Decimal("3"))  # room for exactly 3 jobs of 1000 s of cpu.small
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def submit() -> None:
        try:
            barrier.wait()
            job_create(user=user, spec=job_spec(timeout_s=1000))
            outcomes.append("created")
        except InsufficientCredits:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["created"] * 3 + ["refused"] * 5
    account = _account(user)
    assert (account.balance, account.held) == (Decimal(3), Decimal(3))
    assert Job.objects.filter(user=user).count() == 3
