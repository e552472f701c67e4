"""The validator's periodic work. Thin: one service (or process entry) each."""

import logging
import time
from dataclasses import asdict
from typing import Any

from celery import shared_task
from django.conf import settings

from chain.interface import ChainUnavailable
from chain.task_options import chain_read_task
from validator.cycle.tick import benchmark_cycle_tick, benchmark_newcomers_tick, cycle_number, cycle_seconds
from validator.receipts.pull import receipts_pull_all_sync
from validator.scoring.tick import score_cycle_tick
from validator.services.miners import miners_sync_from_chain
from validator.services.weights import weights_submit_due
from validator.storage.audit import audits_run_due
from validator.storage.repair import repairs_run_due

logger = logging.getLogger(__name__)


@chain_read_task  # retried while the chain is unreachable; idempotent
def sync_miners() -> int:
    return miners_sync_from_chain()


# A run lasts its deadlines (well under the global 5-minute limit). Not acks_late: a killed worker's run stays claimed
# and is not run twice in one cycle; the next cycle starts fresh.
@shared_task(soft_time_limit=230, time_limit=290)
def run_benchmark_cycle() -> dict[str, Any] | None:
    summary = benchmark_cycle_tick()
    return None if summary is None else asdict(summary)


@shared_task(soft_time_limit=230, time_limit=290)
def benchmark_newcomers() -> dict[str, Any] | None:
    summary = benchmark_newcomers_tick()
    return None if summary is None else asdict(summary)


def _receipts_pull() -> None:
    """The scorer's pull: every miner's receipts, waiting for a pull already on to end."""
    receipts_pull_all_sync(wait=True)


# The receipt pull is bounded (VALIDATOR_RECEIPT_PULL_DEADLINE_S), scoring is a few queries. Idempotent: the cycle's
# row is the claim; a worker killed mid-way leaves a stale claim the next tick takes over.
@shared_task(soft_time_limit=230, time_limit=290)
def score_cycle() -> dict[str, Any] | None:
    now = time.time() - settings.VALIDATOR_SCORE_GRACE_S  # receipts of the cycle's last moments first
    summary = score_cycle_tick(current=cycle_number(now), length=cycle_seconds(), pull=_receipts_pull)
    return None if summary is None else asdict(summary)


# Each miner's pull is bounded (VALIDATOR_RECEIPT_PULL_DEADLINE_S of waiting on it); a subnet of
# slow miners can still outlast the limit, and what was stored before it stays. Not acks_late: a
# killed pull is not redone; the next beat pulls from the cursors. One pull at a time (advisory lock).
@shared_task(soft_time_limit=230, time_limit=290)
def pull_receipts() -> dict[str, Any] | None:
    summary = receipts_pull_all_sync()
    return None if summary is None else asdict(summary)


# Not acks_late: it submits extrinsics, and a redelivery after a crash between sending and recording
# could send twice. An unreachable chain (recorded on the submission, which stays pending) is
# retried with backoff inside the tick; every other refusal is recorded and logged by the service.
@shared_task(
    autoretry_for=(ChainUnavailable,),
    retry_backoff=True,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=60,
    time_limit=90,
)
def submit_weights() -> dict[str, Any]:
    try:
        return asdict(weights_submit_due())
    except ChainUnavailable as exc:
        logger.warning("validator: the chain is unreachable for weights, retrying: %s", exc)
        raise


# Each audit is bounded by STORAGE_AUDIT_DEADLINE_S and a batch by its limit; claimed rows are
# not audited twice, so an overlapping run splits the work.
@shared_task(soft_time_limit=240, time_limit=280)
def storage_audit() -> dict[str, int]:
    return audits_run_due()


@shared_task(soft_time_limit=240, time_limit=280)
def storage_repair() -> dict[str, int]:
    return repairs_run_due()
