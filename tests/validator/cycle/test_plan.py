"""Challenges: bound to the miner, the executor and the cycle; deadlines from the calibration."""

from typing import Any

import pytest

from protocol.messages.benchmarks import BenchmarkKind, ExecutorRef
from validator.cycle.plan import ClassInfo, deadline_for, matmul_seed, plan_challenge, pow_reference

INFO = ClassInfo(
    name="cpu.test",
    cpus=1.0,
    memory_mb=512,
    gpu_count=0,
    spin_up_s=2.0,
    matmul_n=2048,
    pow_difficulty=18,
    pow_count=16,
    reference_seconds={"pow": 4.0, "matmul": 3.0},
)
REF = ExecutorRef(host="h", executor_class="cpu.test", index=0)


@pytest.fixture(autouse=True)
def factors(settings: Any) -> None:
    settings.VALIDATOR_DEADLINE_FACTOR = 1.5
    settings.VALIDATOR_NEWCOMER_DEADLINE_FACTOR = 2.0
    settings.VALIDATOR_LATE_GRACE_S = 10.0


def _plan(benchmark: BenchmarkKind, **overrides: Any) -> Any:
    args: dict[str, Any] = {
        "benchmark": benchmark,
        "executor": REF,
        "info": INFO,
        "secret": b"s" * 32,
        "miner_hotkey": "5Miner",
        "cycle": 1,
        "difficulty": 18,
        "newcomer": False,
    } | overrides
    return plan_challenge(**args)


def test_deadlines_come_from_the_reference_spin_up_and_newcomer_factor() -> None:
    assert deadline_for(INFO, 3.0, newcomer=False) == pytest.approx(2.0 + 4.5)
    assert deadline_for(INFO, 3.0, newcomer=True) == pytest.approx(2.0 + 9.0)
    planned = _plan(BenchmarkKind.MATMUL)
    assert planned.deadline_s == pytest.approx(6.5)
    assert planned.challenge.timeout_s == 17  # the deadline and the grace in which it is late
    assert planned.challenge.matmul.n == 2048


def test_pow_reference_doubles_per_bit_of_difficulty() -> None:
    assert pow_reference(INFO, 18) == 4.0
    assert pow_reference(INFO, 20) == 16.0
    assert pow_reference(INFO, 17) == 2.0
    assert _plan(BenchmarkKind.POW, difficulty=20).reference_s == 16.0


def test_challenges_differ_per_miner_executor_cycle_and_secret() -> None:
    base = _plan(BenchmarkKind.POW).challenge.pow.challenge
    others = [
        _plan(BenchmarkKind.POW, miner_hotkey="5Other").challenge.pow.challenge,
        _plan(BenchmarkKind.POW, executor=REF.model_copy(update={"index": 1})).challenge.pow.challenge,
        _plan(BenchmarkKind.POW, cycle=2).challenge.pow.challenge,
        _plan(BenchmarkKind.POW, secret=b"t" * 32).challenge.pow.challenge,
    ]
    assert len({base, *others}) == 5
    seeds = {matmul_seed(secret=b"s" * 32, miner_hotkey=h, executor="h/c/0", cycle=1) for h in ("a", "b")}
    assert len(seeds) == 2
    assert all(len(s) == 16 for s in seeds)  # 128 bits


def test_an_uncalibrated_class_gets_no_challenge() -> None:
    bare = ClassInfo(**{**INFO.__dict__, "reference_seconds": {}})
    assert _plan(BenchmarkKind.POW, info=bare) is None
    assert _plan(BenchmarkKind.MATMUL, info=bare) is None
