"""The validator's periodic work. Thin: one service (or process entry) each."""

from dataclasses import asdict
from typing import Any

from celery import shared_task

from chain.task_options import chain_read_task
from validator.cycle.tick import benchmark_cycle_tick, benchmark_newcomers_tick
from validator.receipts.pull import receipts_pull_all_sync
from validator.services.miners import miners_sync_from_chain


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


# Each miner's pull is bounded (VALIDATOR_RECEIPT_PULL_DEADLINE_S of waiting on it); a subnet of
# slow miners can still outlast the limit, and what was stored before it stays. Not acks_late: a
# killed pull is not redone; the next beat pulls from the cursors. One pull at a time (advisory lock).
@shared_task(soft_time_limit=230, time_limit=290)
def pull_receipts() -> dict[str, Any] | None:
    summary = receipts_pull_all_sync()
    return None if summary is None else asdict(summary)
