"""The facilitator's periodic work. Thin: one service each.

Both touch only this node's database and channel layer (a validator's consumer does the talking), so
they have no retry policy: the next beat, seconds later, is the retry. Both are idempotent (every
change is a conditional update on the job's status), hence acks_late: a redelivery is harmless."""

from celery import shared_task

from facilitator.services.dispatch import jobs_dispatch_pending
from facilitator.services.stale import jobs_expire_stale
from facilitator.services.storage_billing import storage_bill_due


@shared_task(acks_late=True, soft_time_limit=30, time_limit=60)
def dispatch_pending_jobs() -> int:
    return jobs_dispatch_pending()


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def expire_stale_jobs() -> int:
    return jobs_expire_stale()


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def bill_storage() -> str:
    """GB-hours of stored objects; each interval is claimed by a conditional update (exactly once)."""
    return str(storage_bill_due())
