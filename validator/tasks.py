"""The validator's periodic work. Thin: one service each."""

from celery import shared_task

from chain.task_options import CHAIN_READ_TASK
from validator.services.miners import miners_sync_from_chain


@shared_task(**CHAIN_READ_TASK)  # retried while the chain is unreachable; idempotent
def sync_miners() -> int:
    return miners_sync_from_chain()
