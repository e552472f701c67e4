"""Credits: a hold of timeout × price at submission, settled exactly once when the job ends.

Charged: completed jobs and job failures (non-zero exit, timeout, bad image, ...), and
cancellations after the job started. Never charged: infrastructure failures, rejections,
cancellations before start."""

from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F

from facilitator.models import CreditAccount, CreditTransaction, Job
from protocol.messages.common import FailureKind
from protocol.messages.jobs import JobStatus

MICRO = Decimal("0.000001")


class InsufficientCredits(Exception):
    def __init__(self, *, needed: Decimal, available: Decimal) -> None:
        super().__init__(f"this job may cost up to {needed} credits; {available} available")
        self.needed = needed
        self.available = available


def credits_grant(*, user: User, amount: Decimal, note: str = "") -> CreditAccount:
    with transaction.atomic():
        account, _ = CreditAccount.objects.select_for_update().get_or_create(user=user)
        account.balance = F("balance") + amount
        account.save(update_fields=["balance"])
        CreditTransaction.objects.create(account=account, kind=CreditTransaction.Kind.GRANT, amount=amount, note=note)
    account.refresh_from_db()
    return account


def credits_hold(*, user: User, amount: Decimal) -> None:
    """Reserve `amount`; call inside the job-creating transaction."""
    account = CreditAccount.objects.select_for_update().filter(user=user).first()
    if account is None:  # accounts are made by grants; none means nothing to spend
        if amount > 0:
            raise InsufficientCredits(needed=amount, available=Decimal(0))
        account, _ = CreditAccount.objects.get_or_create(user=user)  # a free job still settles
    available = account.balance - account.held
    if available < amount:
        raise InsufficientCredits(needed=amount, available=available)
    CreditAccount.objects.filter(pk=account.pk).update(held=F("held") + amount)


def job_is_chargeable(job: Job) -> bool:
    if job.status in (JobStatus.COMPLETED, JobStatus.TIMEOUT):
        return True
    if job.status == JobStatus.FAILED:
        return job.failure_kind == FailureKind.JOB
    if job.status == JobStatus.CANCELLED:
        return job.started_at is not None
    return False


def credits_settle(*, job: Job) -> Decimal:
    """Release the job's hold and charge it if chargeable. Call with the job row locked, once,
    when it turns terminal; the unique charge constraint backs that up."""
    cost = Decimal(0)
    if job_is_chargeable(job):
        seconds = Decimal(str(job.executor_seconds or 0))
        cost = min((seconds * job.price_per_second).quantize(MICRO, rounding=ROUND_HALF_UP), job.hold)
    account = CreditAccount.objects.select_for_update().get(user_id=job.user_id)
    CreditAccount.objects.filter(pk=account.pk).update(held=F("held") - job.hold, balance=F("balance") - cost)
    if cost:
        CreditTransaction.objects.create(account=account, job=job, kind=CreditTransaction.Kind.CHARGE, amount=cost)
    return cost
