"""The miner's periodic work. Thin: one service each."""

from chain.task_options import chain_read_task
from miner.services.access import validators_sync_from_chain


@chain_read_task  # retried while the chain is unreachable; idempotent
def sync_validators() -> int:
    return validators_sync_from_chain()
