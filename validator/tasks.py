"""The validator's periodic work. Thin: one service each."""

from chain.task_options import chain_read_task
from validator.services.miners import miners_sync_from_chain


@chain_read_task  # retried while the chain is unreachable; idempotent
def sync_miners() -> int:
    return miners_sync_from_chain()
