"""The miner's periodic work. Thin: one service each."""

from celery import shared_task

from chain.interface import ChainUnavailable
from miner.services.access import validators_sync_from_chain


# Reads the chain (a real chain's first read goes to the node), so an unreachable node is retried
# with backoff within the beat interval. Idempotent (acks_late): the validator table is rewritten
# from the metagraph, so running it twice leaves the same rows.
@shared_task(
    acks_late=True,
    autoretry_for=(ChainUnavailable,),
    retry_backoff=True,
    retry_backoff_max=8,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=60,
    time_limit=90,
)
def sync_validators() -> int:
    return validators_sync_from_chain()
