"""A benchmark-ready validator: a small, calibrated test class and short deadlines."""

from collections.abc import Callable, Iterable
from contextlib import AsyncExitStack
from typing import Any

import pytest

from executor.models import ExecutorClass
from protocol.keys import Hotkey
from protocol.nonces import RedisNonceStore
from tests.validator.cycle.bench_miner import BenchMiner, serving
from validator.cycle.run import RunSummary, benchmark_run
from validator.models import BenchmarkCheck, BenchmarkCycle, Miner

# Small on purpose: the suite checks verdicts, not hardware (production CPU classes use n ≥ 2048).
TEST_CLASS = {
    "name": "cpu.test",
    "cpus": 0.5,
    "memory_mb": 256,
    "pids": 64,
    "output_mb": 16,
    "price_per_second": "0.001",
    "spin_up_s": 0.3,
    "matmul_n": 128,
    "pow_difficulty": 8,
    "pow_count": 4,
    "reference_seconds": {"pow": 0.5, "matmul": 0.5},
}


@pytest.fixture
def bench_settings(settings: Any) -> Any:
    settings.VALIDATOR_LATE_GRACE_S = 2.0
    settings.VALIDATOR_OPENING_TIMEOUT_S = 3.0
    settings.VALIDATOR_MANIFEST_TIMEOUT_S = 3.0
    settings.VALIDATOR_DEADLINE_FACTOR = 1.5
    settings.VALIDATOR_NEWCOMER_DEADLINE_FACTOR = 2.0
    settings.VALIDATOR_FLAG_SHARED_ENGINES = True
    settings.VALIDATOR_RESERVE_TIMEOUT_S = 3.0
    return settings


@pytest.fixture
def bench_class(transactional_db: None, bench_settings: Any) -> ExecutorClass:
    cls, _ = ExecutorClass.objects.update_or_create(name=TEST_CLASS["name"], defaults=TEST_CLASS)
    return cls


class Cycles:
    """Runs benchmark cycles of one validator against BenchMiners served on loopback."""

    def __init__(self, validator_key: Hotkey, nonces: RedisNonceStore) -> None:
        self.key = validator_key
        self.nonces = nonces
        self.number = 0

    async def run(self, miners: Iterable[BenchMiner], *, kind: str = "cycle") -> RunSummary | None:
        self.number += 1
        async with AsyncExitStack() as stack:
            for miner in miners:
                address = await stack.enter_async_context(serving(miner))
                await Miner.objects.aupdate_or_create(
                    hotkey=miner.key.ss58, defaults={"address": address, "coldkey": "cold-" + miner.key.ss58[:8]}
                )
            return await benchmark_run(
                number=self.number, kind=BenchmarkCycle.Kind(kind), hotkey=self.key, nonces=self.nonces
            )

    async def checks(self, miner: BenchMiner, *, number: int | None = None) -> list[BenchmarkCheck]:
        rows = BenchmarkCheck.objects.filter(miner__hotkey=miner.key.ss58, cycle__number=number or self.number)
        return [c async for c in rows.order_by("benchmark", "executor")]


@pytest.fixture
def cycles(make_hotkey: Callable[..., Hotkey], nonces: RedisNonceStore, bench_class: ExecutorClass) -> Cycles:
    return Cycles(make_hotkey(), nonces)
