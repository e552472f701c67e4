"""A whole benchmark run against honest miners over real websockets: every executor is challenged
at once, verified, recorded with its reason, and the run is claimed once."""

import pytest
from asgiref.sync import sync_to_async

from protocol.messages.benchmarks import CheckReason
from tests.validator.cycle.bench_miner import BenchMiner, host
from tests.validator.cycle.conftest import Cycles
from validator.models import BenchmarkCycle, MinerCycle, MinerManifest, PowDifficulty
from validator.services.benchmarks import benchmark_cycle_claim

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_async_db")]


async def test_honest_miners_are_fully_verified(cycles: Cycles, make_hotkey) -> None:
    miners = [BenchMiner(make_hotkey()), BenchMiner(make_hotkey(), [host("a"), host("b", executors={"cpu.test": 1})])]
    summary = await cycles.run(miners)
    assert summary is not None
    assert summary.miners == 2
    for miner, executors in zip(miners, (2, 3), strict=True):
        checks = await cycles.checks(miner)
        benchmarks = [c.benchmark for c in checks]
        assert benchmarks.count("pow") == executors
        assert benchmarks.count("matmul") == executors
        assert all(c.passed and c.reason == CheckReason.PASSED for c in checks), [(c.reason, c.detail) for c in checks]
        timed = [c for c in checks if c.benchmark != "manifest"]
        assert all(c.seconds is not None and 0 < c.seconds <= (c.deadline_s or 0) for c in timed)
        assert all(c.efficiency is not None and 0 < c.efficiency <= 1.5 for c in timed)
        # Every executor of the miner got its challenge in one start message per phase.
        assert [len(s.challenges) for s in miner.started] == [executors, executors]
    manifest = await MinerManifest.objects.aget(miner__hotkey=miners[1].key.ss58)
    assert manifest.totals == {"cpu.test": 3}
    cycle = await BenchmarkCycle.objects.aget(number=cycles.number)
    assert cycle.finished_at is not None
    assert len(cycle.secret) == 64
    assert await MinerCycle.objects.filter(cycle=cycle, newcomer=True, manifest__isnull=False).acount() == 2


async def test_a_run_is_claimed_once(cycles: Cycles) -> None:
    first = await sync_to_async(benchmark_cycle_claim)(number=7, kind=BenchmarkCycle.Kind.CYCLE)
    again = await sync_to_async(benchmark_cycle_claim)(number=7, kind=BenchmarkCycle.Kind.CYCLE)
    newcomers = await sync_to_async(benchmark_cycle_claim)(number=7, kind=BenchmarkCycle.Kind.NEWCOMERS)
    assert first is not None
    assert again is None
    assert newcomers is not None


async def test_difficulty_rises_for_fast_miners_within_bounds(cycles: Cycles, make_hotkey, bench_settings) -> None:
    bench_settings.VALIDATOR_POW_DIFFICULTY_RANGE = 1
    miner = BenchMiner(make_hotkey())
    for _ in range(3):
        await cycles.run([miner])
    row = await PowDifficulty.objects.aget(miner__hotkey=miner.key.ss58, executor_class="cpu.test")
    assert row.difficulty == 9  # 8 + 1 and no further: the bound holds
    asked = {c.pow.difficulty for s in miner.started for c in s.challenges if c.pow}
    assert asked == {8, 9}
