"""Interval receipts of running jobs, charged as they come (`job.interval` from the validator the
job was sent to), so work done is paid even if the job dies later: seconds × price, never beyond
the hold, once per (job, attempt, index). Settlement (credits.py) brings the total to the cost."""

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from facilitator.models import CreditAccount, CreditTransaction, Job
from facilitator.selectors import (
    job_charged_total,
    job_interval_attempts,
    job_interval_exists,
    job_last_refunded_attempt,
)
from facilitator.services.credits import credits_price, credits_refund_attempts
from protocol.messages.facilitator import JobIntervalCharge
from protocol.messages.jobs import TERMINAL_STATUSES, JobStatus
from protocol.text import text_for_postgres

logger = logging.getLogger(__name__)


def credits_charge_interval(*, validator_hotkey: str, charge: JobIntervalCharge) -> Decimal | None:
    """The amount charged, or None when the receipt changes nothing: not this validator's job, a
    job not running (pending or ended), a duplicate, an index the job's timeout cannot reach (one
    receipt a second at most), or an attempt already refunded or superseded."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(uuid=charge.job_uuid).first()
        if job is None or job.validator_hotkey != validator_hotkey:
            logger.warning("ignoring interval for %s from %s: not its job", charge.job_uuid, validator_hotkey)
            return None
        if job.status in TERMINAL_STATUSES or job.status == JobStatus.PENDING:
            logger.info("ignoring interval %s/%s for %s: job is %s", charge.attempt, charge.index, job.uuid, job.status)
            return None
        if charge.index > job.timeout_s:  # an attempt runs timeout_s at most: a bound on its rows
            logger.warning("ignoring interval %s for %s: beyond its timeout", charge.index, job.uuid)
            return None
        attempts = job_interval_attempts(job=job)
        if charge.attempt < max(attempts, default=0) or charge.attempt <= job_last_refunded_attempt(job=job):
            logger.info("ignoring interval of closed attempt %s for %s", charge.attempt, job.uuid)
            return None
        if job_interval_exists(job=job, attempt=charge.attempt, index=charge.index):
            return None
        account = CreditAccount.objects.select_for_update().get(user_id=job.user_id)
        # Only an infrastructure failure is retried, so a newer attempt means the older ones failed
        # that way, even if their retry report has not arrived yet.
        credits_refund_attempts(job=job, account=account, below=charge.attempt)
        room = job.hold - job_charged_total(job=job)
        amount = min(credits_price(job=job, seconds=charge.seconds), room)
        CreditTransaction.objects.create(
            account=account,
            job=job,
            kind=CreditTransaction.Kind.INTERVAL,
            amount=amount,
            attempt=charge.attempt,
            index=charge.index,
            note=f"miner {text_for_postgres(charge.miner_hotkey)}",
        )
        # Spent out of the hold: available (balance − held) does not change.
        CreditAccount.objects.filter(pk=account.pk).update(held=F("held") - amount, balance=F("balance") - amount)
    return amount
