"""The validator's periodic work. Thin: one service (or process entry) each."""

from dataclasses import asdict
from typing import Any

from celery import shared_task

from chain.task_options import chain_read_task
from validator.cycle.tick import benchmark_cycle_tick, benchmark_newcomers_tick
from validator.services.miners import miners_sync_from_chain

# A run lasts its deadlines (minutes at most); a killed worker's run stays claimed (not retried
# twice in one cycle), which is what we want: the next cycle starts fresh.
BENCHMARK_TASK: dict[str, Any] = {"acks_late": False, "soft_time_limit": 1800, "time_limit": 1900}


@chain_read_task  # retried while the chain is unreachable; idempotent
def sync_miners() -> int:
    return miners_sync_from_chain()


@shared_task(**BENCHMARK_TASK)
def run_benchmark_cycle() -> dict[str, Any] | None:
    summary = benchmark_cycle_tick()
    return None if summary is None else asdict(summary)


@shared_task(**BENCHMARK_TASK)
def benchmark_newcomers() -> dict[str, Any] | None:
    summary = benchmark_newcomers_tick()
    return None if summary is None else asdict(summary)
