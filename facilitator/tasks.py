from celery import shared_task

from facilitator.services.dispatch import jobs_dispatch_pending
from facilitator.services.stale import jobs_expire_stale


@shared_task
def dispatch_pending_jobs() -> int:
    return jobs_dispatch_pending()


@shared_task
def expire_stale_jobs() -> int:
    return jobs_expire_stale()
