"""Periodic chain work: keep the metagraph in Postgres, reveal committed weights. Thin: one service each."""

import logging

from celery import shared_task

from chain.client import chain_client
from chain.interface import ChainError
from chain.services.metagraph import metagraph_sync
from chain.services.weight_commits import weight_commits_reveal

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def sync_metagraph() -> int | None:
    """Block of the stored metagraph, or None when not due (backing off) or not a synced backend."""
    try:
        snapshot = metagraph_sync(client=chain_client())
    except ChainError:
        return None  # recorded on the snapshot with its backoff; the next beat tries when due
    return snapshot.block if snapshot else None


@shared_task(ignore_result=True)
def reveal_weights() -> int:
    try:
        return weight_commits_reveal(client=chain_client())
    except ChainError as exc:
        logger.warning("chain: reveal round failed: %s", exc)
        return 0
