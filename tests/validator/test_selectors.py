"""The validator's reads: which miners a job may go to and in what order, the outbox, billed work."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from dht.policy.values import NodeState
from protocol.messages.benchmarks import CheckReason
from protocol.messages.common import FailureKind
from protocol.messages.jobs import JobStatus
from tests.dht.factories import NodeHeartbeatFactory
from tests.validator.factories import (
    BenchmarkCheckFactory,
    BenchmarkCycleFactory,
    FacilitatorOutboxFactory,
    MinerFactory,
    MinerIncidentFactory,
    MinerManifestFactory,
    OrganicJobFactory,
    manifest_message,
)
from validator.models import BenchmarkCheck, FacilitatorOutbox, OrganicJob
from validator.selectors import (
    miner_get_by_hotkey,
    miner_report_get,
    miner_report_list,
    miners_for_job,
    organic_job_billed_seconds_by_miner,
    organic_job_get,
    outbox_last,
    outbox_pending,
)

pytestmark = pytest.mark.django_db


def test_miners_for_job_only_active_reachable_and_not_excluded(db):
    good = MinerFactory.create()
    MinerFactory.create(is_active=False)
    MinerFactory.create(address="")
    excluded = MinerFactory.create()
    assert [m.hotkey for m in miners_for_job(exclude={excluded.hotkey})] == [good.hotkey]
    assert {m.hotkey for m in miners_for_job(exclude=set())} == {good.hotkey, excluded.hotkey}


def test_miners_for_job_puts_recent_incidents_last(db):
    reliable = MinerFactory.create()
    flaky = MinerFactory.create()
    flakier = MinerFactory.create()
    MinerIncidentFactory.create(miner=flaky)
    MinerIncidentFactory.create_batch(3, miner=flakier)
    for _ in range(5):  # ties are shuffled, but the order by incidents is fixed
        order = [m.hotkey for m in miners_for_job(exclude=set())]
        assert order == [reliable.hotkey, flaky.hotkey, flakier.hotkey]
    assert [m.recent for m in miners_for_job(exclude=set())] == [0, 1, 3]


def test_old_incidents_are_forgiven(db):
    flaky = MinerFactory.create()
    other = MinerFactory.create()
    MinerIncidentFactory.create(miner=other)
    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        MinerIncidentFactory.create_batch(5, miner=flaky)
    assert [m.recent for m in miners_for_job(exclude=set()) if m.pk == flaky.pk] == [0]
    assert miners_for_job(exclude=set())[0].hotkey == flaky.hotkey


def test_ties_are_shuffled(db):
    miners = MinerFactory.create_batch(4)
    firsts = {miners_for_job(exclude=set())[0].hotkey for _ in range(40)}
    assert len(firsts) > 1
    assert firsts <= {m.hotkey for m in miners}


def _heartbeat(
    hotkey: str, *, age_s: float = 1.0, state: NodeState = NodeState.ONLINE, addresses=("10.0.0.9:8001",)
) -> None:
    now = timezone.now()
    NodeHeartbeatFactory.create(
        hotkey=hotkey,
        state=state,
        addresses=list(addresses),
        published_at=now - timedelta(seconds=age_s),
        expires_at=now + timedelta(seconds=300),
    )


def test_with_heartbeats_required_only_miners_alive_in_the_dht_are_routed(db, settings):
    settings.DHT_ROUTE_REQUIRE_HEARTBEAT = True
    settings.DHT_HEARTBEAT_LAPSE_S = 20
    for hotkey in ("5Alive", "5Lapsed", "5Offline", "5Silent"):
        MinerFactory.create(hotkey=hotkey, address=f"127.0.0.1:{len(hotkey)}", stake=1)
    _heartbeat("5Alive")
    _heartbeat("5Lapsed", age_s=60)
    _heartbeat("5Offline", state=NodeState.OFFLINE)

    assert [m.hotkey for m in miners_for_job(exclude=set())] == ["5Alive"]


def test_a_miner_without_a_chain_address_is_reached_at_its_heartbeat_address(db, settings):
    settings.DHT_ROUTE_REQUIRE_HEARTBEAT = True
    MinerFactory.create(hotkey="5Natted", address="", stake=1)
    MinerFactory.create(hotkey="5Unknown", address="", stake=1)
    _heartbeat("5Natted", addresses=("192.0.2.7:8001",))

    assert [(m.hotkey, m.address) for m in miners_for_job(exclude=set())] == [("5Natted", "192.0.2.7:8001")]


def test_miner_get_by_hotkey(db):
    miner = MinerFactory.create()
    assert miner_get_by_hotkey(hotkey=miner.hotkey) == miner
    assert miner_get_by_hotkey(hotkey="5Unknown") is None


def test_organic_job_get(db):
    job = OrganicJobFactory.create()
    assert organic_job_get(job_uuid=job.uuid) == job
    assert organic_job_get(job_uuid=uuid.uuid4()) is None


def test_outbox_pending_is_oldest_first_and_skips_sent_rows(db):
    first, second, third = FacilitatorOutboxFactory.create_batch(3)
    FacilitatorOutbox.objects.filter(pk=second.pk).update(sent_at=timezone.now())
    assert outbox_pending() == [first, third]
    assert outbox_pending(limit=1) == [first]


def test_outbox_last_is_the_newest_row_of_that_job(db):
    job = OrganicJobFactory.create()
    FacilitatorOutboxFactory.create(job=job)
    newest = FacilitatorOutboxFactory.create(job=job)
    FacilitatorOutboxFactory.create()  # another job's
    assert outbox_last(job_uuid=job.uuid) == newest
    assert outbox_last(job_uuid=uuid.uuid4()) is None


def test_billed_seconds_count_finished_work_but_not_infrastructure_failures(db):
    miner = MinerFactory.create()

    def job(status: JobStatus, seconds: float, kind: str = "") -> OrganicJob:
        return OrganicJobFactory.create(miner=miner, status=status, executor_seconds=seconds, failure_kind=kind)

    since = timezone.now() - timedelta(minutes=1)
    assert organic_job_billed_seconds_by_miner(since=since) == {}
    job(JobStatus.COMPLETED, 1.0)
    job(JobStatus.TIMEOUT, 2.0)
    job(JobStatus.FAILED, 4.0, FailureKind.JOB)
    job(JobStatus.FAILED, 8.0, FailureKind.INFRASTRUCTURE)
    job(JobStatus.CANCELLED, 16.0)
    job(JobStatus.RUNNING, 32.0)
    OrganicJobFactory.create(status=JobStatus.COMPLETED, executor_seconds=64.0)  # no miner
    assert organic_job_billed_seconds_by_miner(since=since) == {miner.hotkey: 7.0}
    assert organic_job_billed_seconds_by_miner(since=timezone.now() + timedelta(minutes=1)) == {}


# --- the read-only API: claims and verified executors --------------------------------------


def _checks(cycle, miner, executor, *, pow=True, matmul=True):
    executor_class = executor.split("/")[1]
    for benchmark, passed in (("pow", pow), ("matmul", matmul)):
        if passed is not None:
            BenchmarkCheckFactory.create(
                cycle=cycle,
                miner=miner,
                executor=executor,
                executor_class=executor_class,
                benchmark=benchmark,
                passed=passed,
            )


def test_verified_counts_executors_that_passed_both_benchmarks_on_a_host_with_a_sound_manifest():
    miner = MinerFactory.create()
    cycle = BenchmarkCycleFactory.create()
    _checks(cycle, miner, "h1/cpu.small/0")
    _checks(cycle, miner, "h1/cpu.small/1", matmul=False)  # a failed matmul
    _checks(cycle, miner, "h1/cpu.small/2", matmul=None)  # never asked for matmul: not verified either
    _checks(cycle, miner, "h1/cpu.small/3")
    _checks(cycle, miner, "h2/gpu.a100/0")
    _checks(cycle, miner, "h2/gpu.a100/1")
    BenchmarkCheckFactory.create(
        cycle=cycle, miner=miner, executor="h1", executor_class="", benchmark="manifest", passed=True
    )
    BenchmarkCheckFactory.create(
        cycle=cycle,
        miner=miner,
        executor="h2",
        executor_class="",
        benchmark="manifest",
        passed=False,
        reason=CheckReason.OVER_CLAIMED,
    )
    # A class outside the catalogue gets its own failed manifest row ("host/class"): it refutes
    # that claim, not the host's other executors.
    BenchmarkCheckFactory.create(
        cycle=cycle,
        miner=miner,
        executor="h1/gpu.unknown",
        executor_class="gpu.unknown",
        benchmark="manifest",
        passed=False,
        reason=CheckReason.UNKNOWN_CLASS,
    )
    assert miner_report_list()[0]["verified"] == {"cpu.small": 2, "gpu.a100": 0}


def test_verified_comes_from_the_latest_finished_run_only():
    miner = MinerFactory.create()
    older = BenchmarkCycleFactory.create(finished_at=timezone.now() - timedelta(minutes=10))
    for i in range(3):
        _checks(older, miner, f"h1/cpu.small/{i}")
    latest = BenchmarkCycleFactory.create()
    _checks(latest, miner, "h1/cpu.small/0")
    _checks(latest, miner, "h1/cpu.small/1", pow=False)
    running = BenchmarkCycleFactory.create(finished_at=None)  # not over yet: does not count
    for i in range(3):
        _checks(running, miner, f"h1/cpu.small/{i}")
    assert miner_report_list()[0]["verified"] == {"cpu.small": 1}


def test_a_run_the_miner_had_no_checks_in_does_not_hide_its_last_one():
    miner, other = MinerFactory.create(), MinerFactory.create()
    mine = BenchmarkCycleFactory.create(finished_at=timezone.now() - timedelta(minutes=10))
    _checks(mine, miner, "h1/cpu.small/0")
    _checks(BenchmarkCycleFactory.create(), other, "h1/cpu.small/0", matmul=False)
    reports = {r["hotkey"]: r["verified"] for r in miner_report_list()}
    assert reports == {miner.hotkey: {"cpu.small": 1}, other.hotkey: {"cpu.small": 0}}


def test_miner_reports_list_active_miners_with_their_latest_manifest_and_last_check():
    MinerFactory.create(hotkey="5B", coldkey="5ColdB")
    a = MinerFactory.create(hotkey="5A", coldkey="5ColdA")
    MinerFactory.create(hotkey="5Gone", is_active=False)
    MinerManifestFactory.create(miner=a, message=manifest_message(h1={"cpu.small": 9}))
    MinerManifestFactory.create(miner=a, message=manifest_message(h1={"cpu.small": 2}, h2={"gpu.a100": 1}))
    _checks(BenchmarkCycleFactory.create(), a, "h1/cpu.small/0")
    last = BenchmarkCheck.objects.filter(miner=a).latest("created_at").created_at
    assert miner_report_list() == [
        {
            "hotkey": "5A",
            "coldkey": "5ColdA",
            "manifest": {"cpu.small": 2, "gpu.a100": 1},
            "verified": {"cpu.small": 1},
            "last_checked_at": last,
        },
        {"hotkey": "5B", "coldkey": "5ColdB", "manifest": {}, "verified": {}, "last_checked_at": None},
    ]


@pytest.mark.parametrize("miners", [1, 6])
def test_the_miner_list_takes_two_queries_however_many_miners(django_assert_num_queries, miners):
    cycles = [BenchmarkCycleFactory.create() for _ in range(2)]
    for i in range(miners):
        miner = MinerFactory.create()
        MinerManifestFactory.create(miner=miner)
        _checks(cycles[i % 2], miner, "h1/cpu.small/0")
    with django_assert_num_queries(2):
        reports = miner_report_list()
    assert [r["verified"] for r in reports] == [{"cpu.small": 1}] * miners


def test_a_miner_report_lists_the_checks_of_its_recent_runs(settings, django_assert_max_num_queries):
    settings.VALIDATOR_API_RECENT_CYCLES = 2
    miner = MinerFactory.create()
    cycles = [BenchmarkCycleFactory.create(number=n) for n in (7, 8, 9)]
    for cycle in cycles:
        _checks(cycle, miner, "h1/cpu.small/0", matmul=cycle.number != 9)
    BenchmarkCheck.objects.filter(cycle=cycles[2], benchmark="matmul").update(detail="C[3, 5] is off", seconds=None)
    with django_assert_max_num_queries(3):
        report = miner_report_get(hotkey=miner.hotkey)
    assert report is not None
    check = {"executor": "h1/cpu.small/0", "executor_class": "cpu.small", "detail": ""}
    assert report["checks"] == [
        {
            **check,
            "cycle": 9,
            "benchmark": "matmul",
            "passed": False,
            "reason": "wrong_answer",
            "detail": "C[3, 5] is off",
            "seconds": None,
        },
        {**check, "cycle": 9, "benchmark": "pow", "passed": True, "reason": "passed", "seconds": 1.5},
        {**check, "cycle": 8, "benchmark": "matmul", "passed": True, "reason": "passed", "seconds": 1.5},
        {**check, "cycle": 8, "benchmark": "pow", "passed": True, "reason": "passed", "seconds": 1.5},
    ]
    assert report["verified"] == {"cpu.small": 0}  # the latest finished run, 9, failed its matmul
    assert (report["hotkey"], report["coldkey"], report["manifest"]) == (miner.hotkey, miner.coldkey, {})


def test_an_unknown_miner_has_no_report():
    assert miner_report_get(hotkey="5Nobody") is None
