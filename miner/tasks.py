from celery import shared_task

from miner.services.access import validators_sync_from_chain


@shared_task
def sync_validators() -> int:
    return validators_sync_from_chain()
