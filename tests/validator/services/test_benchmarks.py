"""Writes of a benchmark run: manifests kept once per change, checks in bulk (first verdict wins),
proof-of-work difficulty stepping within its bounds."""

import pytest

from protocol.messages.benchmarks import CheckReason
from protocol.messages.manifest import ManifestMessage
from tests.validator.cycle.bench_miner import host
from tests.validator.factories import MinerFactory
from validator.models import BenchmarkCheck, BenchmarkCycle, MinerManifest, PowDifficulty
from validator.services.benchmarks import (
    CheckOutcome,
    benchmark_checks_record,
    benchmark_cycle_claim,
    miner_manifest_record,
    pow_difficulty_adapt,
)

pytestmark = pytest.mark.django_db


def test_a_resent_manifest_is_stored_once_and_a_changed_one_again() -> None:
    miner = MinerFactory.create()
    manifest = ManifestMessage(hosts=[host(engine="e")])
    first = miner_manifest_record(miner=miner, manifest=manifest)
    assert miner_manifest_record(miner=miner, manifest=manifest) == first
    changed = miner_manifest_record(
        miner=miner, manifest=ManifestMessage(hosts=[host(engine="e", executors={"cpu.test": 3})])
    )
    assert changed != first
    assert changed.totals == {"cpu.test": 3}
    assert MinerManifest.objects.filter(miner=miner).count() == 2


def test_checks_are_written_in_bulk_and_the_first_verdict_stands() -> None:
    miner = MinerFactory.create()
    cycle = benchmark_cycle_claim(number=1, kind=BenchmarkCycle.Kind.CYCLE)
    assert cycle is not None
    passed = CheckOutcome("h/c/0", "c", "pow", CheckReason.PASSED, "ok", seconds=1.0, deadline_s=2.0, efficiency=1.0)
    late = CheckOutcome("h/c/0", "c", "pow", CheckReason.LATE, "late")
    assert benchmark_checks_record(cycle=cycle, miner=miner, outcomes=[passed]) == 1
    benchmark_checks_record(cycle=cycle, miner=miner, outcomes=[late])
    [row] = BenchmarkCheck.objects.filter(miner=miner)
    assert (row.reason, row.passed, row.seconds, row.efficiency) == ("passed", True, 1.0, 1.0)


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([CheckOutcome("e", "c", "pow", CheckReason.PASSED, seconds=0.4, efficiency=1.3)], 11),  # fast: harder
        (
            [CheckOutcome("e", "c", "pow", CheckReason.PASSED, seconds=0.1, deadline_s=1.0, efficiency=1.0)],
            10,
        ),  # as fast as the class: unchanged, however far inside its deadline
        ([CheckOutcome("e", "c", "pow", CheckReason.LATE, seconds=1.2, deadline_s=1.0)], 9),  # late: easier
        ([CheckOutcome("e", "c", "pow", CheckReason.WRONG_ANSWER, seconds=0.1, deadline_s=1.0)], 10),
        (  # one fast pass and one executor busy with our job: the busy one does not hold it back
            [
                CheckOutcome("e", "c", "pow", CheckReason.PASSED, efficiency=1.5),
                CheckOutcome("f", "c", "pow", CheckReason.BUSY),
            ],
            11,
        ),
    ],
)
def test_difficulty_steps_by_one(outcomes: list[CheckOutcome], expected: int) -> None:
    miner = MinerFactory.create()
    assert (
        pow_difficulty_adapt(miner=miner, executor_class="c", current=10, low=8, high=12, outcomes=outcomes) == expected
    )
    assert PowDifficulty.objects.get(miner=miner).difficulty == expected


def test_difficulty_stays_within_bounds() -> None:
    miner = MinerFactory.create()
    late = [CheckOutcome("e", "c", "pow", CheckReason.LATE, seconds=2.0, deadline_s=1.0)]
    assert pow_difficulty_adapt(miner=miner, executor_class="c", current=8, low=8, high=12, outcomes=late) == 8
