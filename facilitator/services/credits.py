"""Credits: a hold of timeout × price at submission, charged per interval receipt while the job
runs, settled exactly once when it ends, so the job's ledger rows sum to its final cost.

Charged: completed jobs and job failures (non-zero exit, timeout, bad image, ...), and
cancellations after the job started. Never charged: infrastructure failures, rejections,
cancellations before start. An attempt retried after an infrastructure failure gets its interval
charges back; the hold stays for the next attempt. Money only moves here, with the account row
locked after the job row (always in that order)."""

from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.db.models import F

from facilitator.models import CreditAccount, CreditTransaction, Job
from facilitator.selectors import job_charged_total, job_interval_attempts
from facilitator.services.ledger import credits_add
from protocol.messages.common import FailureKind
from protocol.messages.jobs import JobStatus

MICRO = Decimal("0.000001")
Kind = CreditTransaction.Kind


class InsufficientCredits(Exception):
    def __init__(self, *, needed: Decimal, available: Decimal) -> None:
        super().__init__(f"this job may cost up to {needed} credits; {available} available")
        self.needed = needed
        self.available = available


def credits_grant(*, user: User, amount: Decimal, note: str = "", by: str = "") -> CreditAccount:
    """A GRANT through the ledger's one way in (facilitator/services/ledger.py); the account after it."""
    account = credits_add(user=user, amount=amount, kind=Kind.GRANT, note=note, by=by).account
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


def credits_price(*, job: Job, seconds: float) -> Decimal:
    return (Decimal(str(seconds)) * job.price_per_second).quantize(MICRO, rounding=ROUND_HALF_UP)


def credits_settle(*, job: Job) -> Decimal:
    """Release the job's hold and bring its charges to its final cost; returns that cost. Call
    with the job row locked, once, when it turns terminal; the unique charge constraint backs that
    up. A charged job costs its final executor-seconds × price (what its intervals charged when no
    final figure came), capped by the hold: a CHARGE for the rest, or a REFUND if the intervals
    charged more. Any other ending gives every interval charge back."""
    account = CreditAccount.objects.select_for_update().get(user_id=job.user_id)
    if job_is_chargeable(job):
        attempts = job_interval_attempts(job=job)
        if attempts:  # only the last attempt ran to this ending; the earlier ones were retried
            credits_refund_attempts(job=job, account=account, below=max(attempts))
        charged = job_charged_total(job=job)
        final = charged if job.executor_seconds is None else credits_price(job=job, seconds=job.executor_seconds)
        cost = min(final, job.hold)
    else:
        credits_refund_attempts(job=job, account=account)
        charged = cost = Decimal(0)
    rest = cost - charged
    # What is still held for this job is the hold less what its intervals moved to spent.
    CreditAccount.objects.filter(pk=account.pk).update(
        held=F("held") - (job.hold - charged), balance=F("balance") - rest
    )
    if rest:
        kind = Kind.CHARGE if rest > 0 else Kind.REFUND
        CreditTransaction.objects.create(account=account, job=job, kind=kind, amount=rest)
    return cost


def credits_refund_attempts(*, job: Job, account: CreditAccount | None = None, below: int | None = None) -> Decimal:
    """Give back the interval charges of the job's attempts (those numbered below `below`, or all)
    that are not refunded yet, one REFUND row per attempt, which also closes the attempt: its late
    intervals are ignored. Balance and held come back, so the hold covers the next attempt.
    Call with the job row locked; returns the amount refunded."""
    if account is None:
        account = CreditAccount.objects.select_for_update().get(user_id=job.user_id)
    total = Decimal(0)
    for attempt, charged in job_interval_attempts(job=job, open_only=True).items():
        if below is not None and attempt >= below:
            continue
        CreditTransaction.objects.create(account=account, job=job, kind=Kind.REFUND, amount=-charged, attempt=attempt)
        total += charged
    if total:
        CreditAccount.objects.filter(pk=account.pk).update(held=F("held") + total, balance=F("balance") + total)
    return total
