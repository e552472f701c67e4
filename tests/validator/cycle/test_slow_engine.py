"""A class claimed on slower hardware than it names: the miner runs the real benchmark containers,
but its engine's CPU is capped by a cgroup far below the class. Beside it, an honest miner runs the
same containers with the class's limits. The validator's deadline, derived from the class's
reference, tells them apart."""

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from numpy.typing import NDArray

from executor.runtime.benchmark import BenchmarkOutcome, benchmark_run
from protocol.messages.benchmarks import Challenge, CheckReason
from protocol.messages.executor import ExecutorLimits
from tests.validator.cycle.bench_miner import BenchMiner, host
from tests.validator.cycle.conftest import Cycles

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_async_db"), pytest.mark.docker]
CLASS_LIMITS = ExecutorLimits(cpus=0.5, memory_mb=256, pids=64, output_mb=16)


class ContainerMiner(BenchMiner):
    """Answers by running the real benchmark image under `limits` (the engine's real capacity)."""

    def __init__(self, key: Any, limits: ExecutorLimits) -> None:
        super().__init__(key, [host(executors={"cpu.test": 1})])
        self.limits = limits

    async def _run(self, challenge: Challenge) -> BenchmarkOutcome:
        outcome = await benchmark_run(
            challenge=challenge,
            limits=self.limits,
            docker_url="local",
            owner=f"test-{self.key.ss58[:12]}",
            image="meshwork/bench:1",
            cancel=asyncio.Event(),
        )
        assert outcome.ok, (outcome.reason, outcome.detail)
        return outcome

    async def nonces(self, challenge: Challenge) -> list[int]:
        return list((await self._run(challenge)).nonces or [])

    async def product(self, challenge: Challenge) -> NDArray[Any]:
        matrix = (await self._run(challenge)).matrix
        assert matrix is not None
        return matrix


async def test_an_engine_slower_than_its_class_is_late_while_the_honest_one_passes(
    cycles: Cycles, make_hotkey, bench_class, bench_settings
) -> None:
    # A real container needs real time: deadlines of 1 s + 1 s × 1.5 × 2 (newcomer) = 4 s.
    bench_class.spin_up_s = 1.0
    bench_class.reference_seconds = {"pow": 1.0, "matmul": 1.0}
    await sync_to_async(bench_class.save)()
    bench_settings.VALIDATOR_LATE_GRACE_S = 90.0
    honest = ContainerMiner(make_hotkey(), CLASS_LIMITS)
    # 0.02 CPU: even starting Python and importing numpy (~0.3 CPU-s) takes it past the 4 s deadline.
    capped = ContainerMiner(make_hotkey(), CLASS_LIMITS.model_copy(update={"cpus": 0.02}))
    await cycles.run([honest, capped])
    honest_checks = await cycles.checks(honest)
    assert [c.reason for c in honest_checks] == [CheckReason.PASSED] * 3, [(c.reason, c.detail) for c in honest_checks]
    late = [c for c in await cycles.checks(capped) if c.benchmark != "manifest"]
    assert {c.reason for c in late} == {CheckReason.LATE}, [(c.reason, c.detail) for c in late]
    assert all(c.seconds is not None and c.deadline_s is not None and c.seconds > c.deadline_s for c in late)
