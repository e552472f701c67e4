from celery import shared_task

from validator.services.miners import miners_sync_from_chain


@shared_task
def sync_miners() -> int:
    return miners_sync_from_chain()
