"""The beat's ticks: cycle numbers from the cycle length (the chain's tempo by default), one run
at a time per validator, newcomer runs only when there are newcomers."""

from typing import Any

import pytest
from django.db import connections

from tests.validator.factories import MinerFactory
from validator.cycle import tick
from validator.models import BenchmarkCycle, MinerCycle

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("node_key")]


def test_cycle_length_is_the_setting_else_tempo_times_block_time(settings: Any, local_chain: Any) -> None:
    settings.VALIDATOR_CYCLE_S = 300
    assert tick.cycle_seconds() == 300
    assert tick.cycle_number(at=900.0) == 3
    settings.VALIDATOR_CYCLE_S = 0
    assert tick.cycle_seconds() == tick.DEFAULT_TEMPO_BLOCKS * 1.0  # never synced; 1 s local blocks


def test_a_tick_while_another_run_holds_the_lock_runs_nothing(settings: Any, local_chain: Any) -> None:
    settings.VALIDATOR_CYCLE_S = 300
    other = connections.create_connection("default")  # another worker process, in effect
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [tick.RUN_LOCK])
        assert tick.benchmark_cycle_tick() is None
        assert not BenchmarkCycle.objects.exists()
        with other.cursor() as cursor:  # released here: a closed session's lock goes only once its backend exits
            cursor.execute("SELECT pg_advisory_unlock(%s)", [tick.RUN_LOCK])
    finally:
        other.close()
    summary = tick.benchmark_cycle_tick()  # the lock is free again: the cycle runs (no miners)
    assert summary is not None
    assert summary.miners == 0
    assert tick.benchmark_cycle_tick() is None  # and only once


def test_newcomer_runs_only_include_miners_never_benchmarked(settings: Any, local_chain: Any) -> None:
    settings.VALIDATOR_CYCLE_S = 300
    assert tick.benchmark_newcomers_tick() is None  # nobody to benchmark
    seen, new = MinerFactory.create(address="127.0.0.1:1"), MinerFactory.create(address="127.0.0.1:1")
    cycle = BenchmarkCycle.objects.create(number=1)
    MinerCycle.objects.create(cycle=cycle, miner=seen)
    summary = tick.benchmark_newcomers_tick()
    assert summary is not None
    assert (summary.kind, summary.miners) == ("newcomers", 1)
    assert set(MinerCycle.objects.filter(cycle__kind="newcomers").values_list("miner", flat=True)) == {new.id}
