"""Periodic chain work: keep the metagraph in Postgres, reveal committed weights. Thin: one service each.

Both run from beat on an interval, so an error never escapes as a crash loop: an unreachable node
(`ChainUnavailable`) is retried with backoff inside the interval, anything else the runtime refused
is logged as an error with its context and the next beat tries again."""

import logging

from celery import shared_task

from chain.client import chain_client
from chain.interface import ChainClient, ChainError, ChainUnavailable
from chain.services.metagraph import metagraph_sync
from chain.services.weight_commits import weight_commits_reveal

logger = logging.getLogger(__name__)


# Idempotent (acks_late: a worker lost mid-run is redelivered): the round is claimed by a
# conditional update and stored in one transaction, so running it twice stores one snapshot.
# No Celery retry: the service records each failure on the snapshot and backs off there (shared by
# every worker of the node); a Celery retry inside that backoff would only find the round not due.
@shared_task(ignore_result=True, acks_late=True, soft_time_limit=120, time_limit=150)
def sync_metagraph() -> int | None:
    """Block of the stored metagraph, or None when not due (backing off), failed, or not a synced backend."""
    client = chain_client()
    try:
        snapshot = metagraph_sync(client=client)
    except ChainUnavailable:
        return None  # logged by the service with its failure count and the next try's delay
    except ChainError as exc:
        _log_refusal(client, "the metagraph read", exc)
        return None
    return snapshot.block if snapshot else None


# Not acks_late: a reveal submits extrinsics, and a redelivery after a crash between submitting and
# recording could submit one twice. Retries are safe: an unreachable node accepted nothing.
@shared_task(
    ignore_result=True,
    autoretry_for=(ChainUnavailable,),
    retry_backoff=True,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=120,
    time_limit=150,
)
def reveal_weights() -> int:
    """How many committed weights were revealed this round."""
    client = chain_client()
    try:
        return weight_commits_reveal(client=client)
    except ChainUnavailable as exc:
        logger.warning("chain: %s unreachable for reveals on subnet %d, retrying: %s", client.name, client.netuid, exc)
        raise
    except ChainError as exc:
        _log_refusal(client, "a reveal round", exc)
        return 0


def _log_refusal(client: ChainClient, what: str, exc: ChainError) -> None:
    """An error with its context (not retried: the next beat tries again)."""
    name = exc.name or type(exc).__name__
    logger.error(
        "chain: %s refused %s on subnet %d (%s): %s", client.name, what, client.netuid, name, exc, exc_info=True
    )
