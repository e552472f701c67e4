"""Cycle N of one-hour windows, and a benchmark run in which a miner's executors passed."""

from datetime import UTC, datetime
from typing import Any

from tests.validator.factories import (
    BenchmarkCheckFactory,
    BenchmarkCycleFactory,
    MinerCycleFactory,
    MinerManifestFactory,
    manifest_message,
)
from validator.models import BenchmarkCycle, Miner

HOUR = 3600.0
N = 1000  # the cycle under test: [N h, (N + 1) h)
OTHER_VALIDATOR = "5OtherValidator000000000000000000000000000000000"


def at(cycle: int, seconds: float) -> datetime:
    return datetime.fromtimestamp(cycle * HOUR + seconds, tz=UTC)


def window(cycle: int) -> dict[str, datetime]:
    return {"window_start": at(cycle, 0), "window_end": at(cycle + 1, 0)}


def verified_run(miner: Miner, *, executors: int = 2, cls: str = "cpu.small", **check: Any) -> BenchmarkCycle:
    """Cycle N's run in which `executors` executors of `cls` passed pow and matmul."""
    run = BenchmarkCycle.objects.filter(number=N, kind=BenchmarkCycle.Kind.CYCLE).first()
    run = run or BenchmarkCycleFactory.create(number=N)
    manifest = MinerManifestFactory.create(miner=miner, message=manifest_message(h1={cls: executors}))
    MinerCycleFactory.create(cycle=run, miner=miner, manifest=manifest)
    BenchmarkCheckFactory.create(cycle=run, miner=miner, executor="h1", executor_class="", benchmark="manifest")
    for i in range(executors):
        for benchmark in ("pow", "matmul"):
            fields = {"seconds": 1.0, "efficiency": 1.0, **check}
            BenchmarkCheckFactory.create(
                cycle=run, miner=miner, executor=f"h1/{cls}/{i}", executor_class=cls, benchmark=benchmark, **fields
            )
    return run
