"""The miner's periodic work. Thin: one service each."""

from celery import shared_task

from chain.task_options import CHAIN_READ_TASK
from miner.services.access import validators_sync_from_chain


@shared_task(**CHAIN_READ_TASK)  # retried while the chain is unreachable; idempotent
def sync_validators() -> int:
    return validators_sync_from_chain()
