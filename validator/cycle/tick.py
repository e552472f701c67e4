"""The beat's entry into benchmark runs: which run is due now, run it, report what happened.

Cycle numbers count cycle lengths since the epoch, so every validator (and every worker of one)
agrees which cycle it is; inserting the run's row is the claim, so a cycle runs once however many
ticks arrive. A newcomer run carries the number of the cycle it falls in (at most one per cycle) and
includes only miners never benchmarked here; later arrivals wait for the next full cycle."""

import asyncio
import contextlib
import time
from collections.abc import Iterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, connections

from chain.client import chain_client
from chain.selectors import metagraph_snapshot
from protocol.identity import node_hotkey
from protocol.nonces import RedisNonceStore
from protocol.tunables import tunable
from validator.cycle.run import RunSummary, benchmark_run
from validator.models import BenchmarkCycle
from validator.selectors import miners_for_job, miners_never_benchmarked

RUN_LOCK = 0x6D657368  # "mesh": this validator's benchmark runs, one at a time
DEFAULT_TEMPO_BLOCKS = 360  # Bittensor's default tempo, for a chain whose metagraph was never synced


def cycle_seconds() -> float:
    configured = float(tunable("VALIDATOR_CYCLE_S"))
    if configured > 0:
        return configured
    snapshot = metagraph_snapshot(chain=settings.CHAIN, netuid=settings.CHAIN_NETUID)
    tempo = snapshot.tempo if snapshot is not None and snapshot.tempo else DEFAULT_TEMPO_BLOCKS
    return float(tempo) * chain_client().block_seconds()


def cycle_number(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // cycle_seconds())


@contextlib.contextmanager
def _one_run_at_a_time() -> Iterator[bool]:
    """A session advisory lock: two runs at once would find each other's executors busy."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK])


def _run(number: int, kind: BenchmarkCycle.Kind, only: set[str] | None) -> RunSummary | None:
    async def go() -> RunSummary | None:
        nonces = RedisNonceStore()
        try:
            return await benchmark_run(number=number, kind=kind, hotkey=node_hotkey(), nonces=nonces, only=only)
        finally:
            await nonces.close()
            # The ORM ran in sync_to_async's thread: close its connection, or it outlives the run.
            await sync_to_async(connections.close_all)()

    with _one_run_at_a_time() as held:
        if not held:
            return None  # another run is on; the next tick tries again
        return asyncio.run(go())


def benchmark_cycle_tick() -> RunSummary | None:
    """Runs the current cycle unless it already ran; None if it did."""
    return _run(cycle_number(), BenchmarkCycle.Kind.CYCLE, None)


def benchmark_newcomers_tick() -> RunSummary | None:
    """Benchmarks, with extended deadlines, the miners this validator never ran; None if none."""
    routable = {m.hotkey for m in miners_for_job(exclude=set())}
    newcomers = miners_never_benchmarked(hotkeys=routable)
    if not newcomers:
        return None
    return _run(cycle_number(), BenchmarkCycle.Kind.NEWCOMERS, newcomers)
