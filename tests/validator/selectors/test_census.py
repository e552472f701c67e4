"""The census a validator reports (validator/selectors/census.py): per class, the active miners'
latest manifest claims against what this validator verified in each miner's latest finished run."""

from datetime import timedelta

import pytest
from django.utils import timezone

from protocol.messages.facilitator import MAX_CENSUS_CLASSES, ClassCensus
from tests.validator.factories import (
    BenchmarkCheckFactory,
    BenchmarkCycleFactory,
    MinerFactory,
    MinerManifestFactory,
    manifest_message,
)
from validator.selectors.census import benchmark_run_last_finished, executor_census_build

pytestmark = pytest.mark.django_db


def _verified(cycle, miner, executor: str, *, passed: bool = True) -> None:
    for benchmark in ("pow", "matmul"):
        BenchmarkCheckFactory.create(
            cycle=cycle, miner=miner, executor=executor, executor_class=executor.split("/")[1],
            benchmark=benchmark, passed=passed,
        )  # fmt: skip


def test_no_census_before_a_benchmark_run_finished():
    MinerManifestFactory.create(miner=MinerFactory.create(), message=manifest_message(h1={"cpu.small": 2}))
    BenchmarkCycleFactory.create(finished_at=None)
    assert benchmark_run_last_finished() is None
    assert executor_census_build() is None


def test_claims_and_verified_executors_add_up_per_class():
    a, b = MinerFactory.create(), MinerFactory.create()
    gone = MinerFactory.create(is_active=False)
    MinerManifestFactory.create(miner=a, message=manifest_message(h1={"cpu.small": 3}, h2={"gpu.a100": 1}))
    MinerManifestFactory.create(miner=b, message=manifest_message(h1={"cpu.small": 2}))
    MinerManifestFactory.create(miner=gone, message=manifest_message(h1={"cpu.small": 50}))
    older = BenchmarkCycleFactory.create(number=7, finished_at=timezone.now() - timedelta(minutes=5))
    latest = BenchmarkCycleFactory.create(number=8)
    BenchmarkCycleFactory.create(number=9, finished_at=None)  # running: not the census's run
    _verified(older, a, "h1/cpu.small/0")
    _verified(older, a, "h1/cpu.small/1")
    _verified(latest, b, "h1/cpu.small/0")
    _verified(latest, b, "h1/cpu.small/1", passed=False)

    census = executor_census_build()
    assert census is not None
    assert census.cycle == 8
    assert benchmark_run_last_finished() == latest.id
    assert census.classes == [  # no floors: every miner of a priced class is willing
        ClassCensus(executor_class="cpu.small", miners=2, claimed=5, verified=3, willing_miners=2, willing_executors=3),
        ClassCensus(executor_class="gpu.a100", miners=1, claimed=1, verified=0),  # not in our catalogue
    ]
    assert abs((timezone.now() - census.at).total_seconds()) < 5


def test_past_the_bound_the_classes_with_most_verified_are_kept():
    miner = MinerFactory.create()
    claimed = {f"junk{i:03d}": 1 for i in range(MAX_CENSUS_CLASSES)}  # a miner naming classes at will
    hosts = {f"h{i}": dict(list(claimed.items())[i : i + 16]) for i in range(0, MAX_CENSUS_CLASSES, 16)}
    MinerManifestFactory.create(miner=miner, message=manifest_message(**hosts, real={"cpu.small": 1}))
    _verified(BenchmarkCycleFactory.create(), miner, "real/cpu.small/0")
    census = executor_census_build()
    assert census is not None
    assert len(census.classes) == MAX_CENSUS_CLASSES
    assert census.classes[0] == ClassCensus(
        executor_class="cpu.small", miners=1, claimed=1, verified=1, willing_miners=1, willing_executors=1
    )
    assert "junk063" not in {c.executor_class for c in census.classes}  # the last by name of the ties


def test_miners_whose_floor_is_above_the_price_are_not_willing():
    """cpu.small pays 0.001/s (the seeded catalogue): a floor at it is willing, one above is not."""
    at_price, above, none = MinerFactory.create(), MinerFactory.create(), MinerFactory.create()
    for miner, floor in ((at_price, "0.001"), (above, "0.0011"), (none, None)):
        message = manifest_message(h1={"cpu.small": 2})
        if floor is not None:
            message = message.model_copy(update={"price_floors": {"cpu.small": floor}})
        MinerManifestFactory.create(miner=miner, message=message)
    run = BenchmarkCycleFactory.create(number=3)
    for miner in (at_price, above, none):
        _verified(run, miner, "h1/cpu.small/0")
    census = executor_census_build()
    assert census is not None
    assert census.classes == [
        ClassCensus(executor_class="cpu.small", miners=3, claimed=6, verified=3, willing_miners=2, willing_executors=2)
    ]
    wire = census.model_dump(mode="json")["classes"][0]
    assert (wire["willing_miners"], wire["willing_executors"]) == (2, 2)


def test_an_older_floor_is_replaced_by_the_latest_manifest():
    miner = MinerFactory.create()
    floored = manifest_message(h1={"cpu.small": 1}).model_copy(update={"price_floors": {"cpu.small": "5"}})
    MinerManifestFactory.create(miner=miner, message=floored, received_at=timezone.now() - timedelta(hours=1))
    MinerManifestFactory.create(miner=miner, message=manifest_message(h1={"cpu.small": 1}))
    BenchmarkCycleFactory.create(number=4)
    census = executor_census_build()
    assert census is not None
    assert census.classes[0].willing_miners == 1
