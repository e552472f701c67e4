"""What a cycle's scores are made of: the benchmark run's claims, verdicts, efficiency and
seconds; organic seconds from every validator's receipts; busy declines judged against them."""

import pytest

from tests.validator.factories import (
    BenchmarkCheckFactory,
    BenchmarkCycleFactory,
    MinerCycleFactory,
    MinerDeclineFactory,
    MinerFactory,
    MinerManifestFactory,
    ReceiptRecordFactory,
)
from tests.validator.scoring.cycles import HOUR, OTHER_VALIDATOR, N, at, verified_run, window
from validator.models import BenchmarkCheck, BenchmarkCycle, MinerManifest, ReceiptRecord
from validator.scoring.formula import ClassInputs, MinerInputs, penalties_compute
from validator.scoring.inputs import organic_seconds, scoring_inputs_gather, scoring_params

pytestmark = pytest.mark.django_db


def gather(cycle: int = N) -> dict[str, MinerInputs]:
    return {m.hotkey: m for m in scoring_inputs_gather(number=cycle, **window(cycle))}


def test_a_job_dying_after_two_intervals_is_credited_them_and_a_finished_job_exactly_its_seconds():
    miner = MinerFactory.create()
    died, finished, lower = (ReceiptRecordFactory.create(miner=miner).job_uuid for _ in range(3))
    ReceiptRecordFactory.create(miner=miner, job_uuid=died, index=2, at=at(N, 1800), seconds=600.0)
    ReceiptRecordFactory.create(  # the miner's fault: nothing beyond its intervals
        miner=miner, job_uuid=died, kind="job_finished", outcome="infrastructure", at=at(N + 1, 60), seconds=1500.0
    )
    ReceiptRecordFactory.create(miner=miner, job_uuid=finished, kind="job_finished", at=at(N + 1, 60), seconds=900.0)
    ReceiptRecordFactory.create(miner=miner, job_uuid=lower, kind="job_finished", at=at(N + 1, 60), seconds=500.0)
    never_ended = ReceiptRecordFactory.create(miner=miner, at=at(N, 900), seconds=600.0)  # no finish ever
    ReceiptRecordFactory.create(miner=miner, job_uuid=never_ended.job_uuid, index=2, at=at(N, 1500), seconds=600.0)
    # The first intervals were signed now: move them into cycle N.
    ReceiptRecord.objects.filter(kind="interval", index=1).update(at=at(N, 600))

    first = organic_seconds(**window(N))
    second = organic_seconds(**window(N + 1))
    assert first == {(miner.id, "cpu.small"): pytest.approx(600 * 2 + 600 * 3 + 600)}
    assert second == {(miner.id, "cpu.small"): pytest.approx(300.0)}  # finished: 900 − its 600; lower: 0; died: 0
    assert organic_seconds(**window(N + 2)) == {}


def test_receipts_of_every_validator_count_but_benchmark_jobs_and_other_windows_do_not():
    miner = MinerFactory.create()
    ReceiptRecordFactory.create(
        miner=miner, at=at(N, 10), seconds=100.0, source="pulled", validator_hotkey=OTHER_VALIDATOR
    )
    ReceiptRecordFactory.create(miner=miner, at=at(N, 20), seconds=50.0, executor_class="cpu.large")
    ReceiptRecordFactory.create(miner=miner, at=at(N, 30), seconds=70.0, job_kind="benchmark")
    ReceiptRecordFactory.create(miner=miner, at=at(N - 1, 30), seconds=80.0)
    assert organic_seconds(**window(N)) == {(miner.id, "cpu.small"): 100.0, (miner.id, "cpu.large"): 50.0}


def test_claims_verified_efficiency_and_benchmark_seconds_come_from_the_cycles_run(settings):
    settings.VALIDATOR_SCORE_BENCHMARK_VALUE = 2.0
    settings.VALIDATOR_EFFICIENCY_CAP = 1.5
    miner = MinerFactory.create()
    run = verified_run(miner, executors=2)
    effs = iter([0.8, 1.0, 1.2, 3.0])  # capped to 1.5: median of 0.8, 1.0, 1.2, 1.5 is 1.1
    for check in BenchmarkCheck.objects.filter(cycle=run, benchmark__in=["pow", "matmul"]).order_by("id"):
        check.efficiency = next(effs)
        check.save()
    BenchmarkCheckFactory.create(  # a failed check: its seconds and efficiency do not count
        cycle=run, miner=miner, executor="h1/cpu.small/2", benchmark="matmul", passed=False, reason="late", seconds=9.0
    )
    ReceiptRecordFactory.create(miner=miner, at=at(N, 10), seconds=100.0)
    older = BenchmarkCycleFactory.create(number=N - 1)  # another cycle's run is not this one's
    BenchmarkCheckFactory.create(cycle=older, miner=miner, seconds=50.0)

    inputs = gather()[miner.hotkey]
    efficiency = inputs.classes["cpu.small"].efficiency
    assert efficiency == pytest.approx(1.1)
    assert inputs.classes == {
        "cpu.small": ClassInputs(
            "cpu.small", claimed=2, verified=2, efficiency=efficiency, organic_seconds=100.0, benchmark_seconds=8.0
        )
    }
    assert inputs.check_reasons == {"": {"passed": 1}, "cpu.small": {"passed": 4, "late": 1}}


def test_a_miner_only_in_the_newcomer_run_is_scored_from_it_and_unbenchmarked_efficiency_is_one():
    newcomer, fresh = MinerFactory.create(), MinerFactory.create()
    run = BenchmarkCycleFactory.create(number=N, kind=BenchmarkCycle.Kind.NEWCOMERS)
    MinerCycleFactory.create(cycle=run, miner=newcomer)
    for benchmark in ("pow", "matmul"):
        BenchmarkCheckFactory.create(cycle=run, miner=newcomer, benchmark=benchmark, efficiency=0.5)
    ReceiptRecordFactory.create(miner=fresh, at=at(N, 10), seconds=10.0)

    inputs = gather()
    assert inputs[newcomer.hotkey].classes["cpu.small"].verified == 1
    assert inputs[newcomer.hotkey].classes["cpu.small"].efficiency == 0.5
    assert inputs[fresh.hotkey].classes == {"cpu.small": ClassInputs("cpu.small", organic_seconds=10.0)}


def test_a_busy_decline_with_a_free_verified_executor_counts_and_a_truly_busy_one_does_not():
    miner = MinerFactory.create()
    verified_run(miner, executors=2)
    # Two jobs (from two validators) overlap over [N+1000, N+2000); one runs alone over [N+2000, N+3000).
    for start, end, validator in ((1000, 3000, "5V1"), (1000, 2000, OTHER_VALIDATOR)):
        job = ReceiptRecordFactory.create(miner=miner, kind="job_started", at=at(N, start), validator_hotkey=validator)
        ReceiptRecordFactory.create(miner=miner, job_uuid=job.job_uuid, kind="job_finished", at=at(N, end))
    MinerDeclineFactory.create(miner=miner, at=at(N, 1500))  # both executors busy: fair
    MinerDeclineFactory.create(miner=miner, at=at(N, 2500))  # one free
    MinerDeclineFactory.create(miner=miner, at=at(N, 3500))  # both free
    MinerDeclineFactory.create(miner=miner, at=at(N, 3600), reason="duplicate_job")  # not a busy claim
    MinerDeclineFactory.create(miner=miner, at=at(N, 3700), executor_class="cpu.large")  # none verified there
    assert gather()[miner.hotkey].declined_free == {"cpu.small": 2}


def test_unprofitable_and_over_share_declines_with_every_executor_free_are_never_penalised():
    """A miner's price floor and another validator's share are not capacity it hides (docs/market.md)."""
    miner = MinerFactory.create()
    verified_run(miner, executors=2)  # nothing runs on it in the window: every executor is free
    MinerDeclineFactory.create(miner=miner, at=at(N, 1000), reason="unprofitable")
    MinerDeclineFactory.create(miner=miner, at=at(N, 1100), reason="over_share")
    inputs = gather()[miner.hotkey]
    assert inputs.declined_free == {}
    assert penalties_compute(inputs, scoring_params(window_s=3600.0)) == []
    MinerDeclineFactory.create(miner=miner, at=at(N, 1200))  # the same moment's "busy" is a lie
    assert gather()[miner.hotkey].declined_free == {"cpu.small": 1}


def test_a_job_with_no_end_yet_counts_as_running_until_twice_its_timeout():
    miner = MinerFactory.create()
    verified_run(miner, executors=1)
    ReceiptRecordFactory.create(miner=miner, kind="job_started", at=at(N, 0), payload={"timeout_s": 600, "ttl_s": 0})
    MinerDeclineFactory.create(miner=miner, at=at(N, 1100))  # within 2 × 600 s: busy
    MinerDeclineFactory.create(miner=miner, at=at(N, 1300))  # beyond: free
    assert gather()[miner.hotkey].declined_free == {"cpu.small": 1}


def test_the_benchmark_runs_declined_busy_checks_are_judged_the_same_way():
    miner = MinerFactory.create()
    run = verified_run(miner, executors=2)
    check = BenchmarkCheckFactory.create(
        cycle=run, miner=miner, executor="h1/cpu.small/2", passed=False, reason="declined_busy"
    )
    BenchmarkCheck.objects.filter(pk=check.pk).update(created_at=at(N, 30))
    assert gather()[miner.hotkey].declined_free == {"cpu.small": 1}


def test_manifests_received_in_the_window_are_counted_and_the_allowance_follows_the_window(settings):
    settings.VALIDATOR_MANIFEST_MIN_INTERVAL_S = 1800.0
    miner = MinerFactory.create()
    for seconds in (10, 20, 30, -10):
        manifest = MinerManifestFactory.create(miner=miner)
        MinerManifest.objects.filter(pk=manifest.pk).update(received_at=at(N, seconds))
    assert gather()[miner.hotkey].manifests == 3
    assert scoring_params(window_s=HOUR).manifests_allowed == 3
    assert scoring_params(window_s=600).manifests_allowed == 1


def test_inactive_miners_with_nothing_to_score_are_left_out_and_class_values_come_from_the_catalogue(
    executor_classes,
):
    active, gone = MinerFactory.create(), MinerFactory.create(is_active=False)
    gone_but_worked = MinerFactory.create(is_active=False)
    ReceiptRecordFactory.create(miner=gone_but_worked, at=at(N, 10), seconds=10.0)
    assert set(gather()) == {active.hotkey, gone_but_worked.hotkey}
    assert gone.hotkey not in gather()
    assert scoring_params(window_s=HOUR).values["cpu.small"] == executor_classes["cpu.small"].weight


def test_a_machine_rented_out_for_weeks_keeps_its_miner_busy():
    """A rental's job_started receipt may be weeks old (docs/rentals.md): it still counts as running
    until its job_finished, so a busy decline meanwhile is fair, and one after its end is not."""
    miner = MinerFactory.create()
    verified_run(miner, executors=1)
    month = 30 * 86400
    rental = ReceiptRecordFactory.create(
        miner=miner, kind="job_started", at=at(N, -20 * 86400), payload={"timeout_s": month, "ttl_s": 30}
    )
    MinerDeclineFactory.create(miner=miner, at=at(N, 1000))  # rented out 20 days ago, still running: busy
    assert gather()[miner.hotkey].declined_free == {}
    ReceiptRecordFactory.create(miner=miner, job_uuid=rental.job_uuid, kind="job_finished", at=at(N, 2000))
    MinerDeclineFactory.create(miner=miner, at=at(N, 2500))  # the rental ended: this "busy" hides a free one
    assert gather()[miner.hotkey].declined_free == {"cpu.small": 1}
