"""The scoring tick: claims the last completed cycle once, pulls receipts first, stores one score
per miner (with its inputs) and the pending weights, in a fixed number of writes."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.validator.factories import BenchmarkCheckFactory, MinerFactory, ReceiptRecordFactory
from tests.validator.scoring.cycles import HOUR, OTHER_VALIDATOR, N, at, verified_run
from validator.models import Miner, MinerScore, ScoringCycle, WeightSubmission
from validator.scoring.tick import missed_cycles_record, score_cycle, score_cycle_tick
from validator.tasks import score_cycle as score_cycle_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("executor_classes")]


class Pull:
    """A stand-in receipt pull, recording the scoring cycles that existed at each call."""

    def __init__(self, *, fails: bool = False) -> None:
        self.calls: list[int] = []
        self.kwargs: list[dict[str, Any]] = []
        self.fails = fails

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(ScoringCycle.objects.count())
        self.kwargs.append(kwargs)
        if self.fails:
            raise ConnectionError("every miner unreachable")


@pytest.fixture
def pull() -> Pull:
    return Pull()


def worked(miner: Miner, seconds: float, **receipt: Any) -> None:
    ReceiptRecordFactory.create(miner=miner, at=at(N, 60), seconds=seconds, **receipt)


def test_the_tick_scores_the_last_completed_cycle_once(pull):
    miner = MinerFactory.create()
    worked(miner, 100.0)
    summary = score_cycle_tick(current=N + 1, length=HOUR, pull=pull)
    assert summary is not None
    assert (summary.cycle, summary.miners, summary.scored) == (N, 1, 1)
    assert score_cycle_tick(current=N + 1, length=HOUR, pull=pull) is None
    assert score_cycle(number=N, length=HOUR, pull=pull) is None  # claimed: a second worker does nothing
    cycle = ScoringCycle.objects.get()
    assert (cycle.number, cycle.window_start, cycle.window_end) == (N, at(N, 0), at(N + 1, 0))
    assert cycle.finished_at is not None
    assert pull.calls == [1]  # pulled once, after the claim
    assert MinerScore.objects.count() == 1
    assert WeightSubmission.objects.get().values == {miner.hotkey: 1.0}
    assert score_cycle_tick(current=0, length=HOUR, pull=pull) is None  # no completed cycle yet


def test_cycles_missed_while_the_validator_was_down_are_recorded_as_skipped_never_silent(pull, caplog):
    score_cycle_tick(current=N - 3, length=HOUR, pull=pull)  # scored N − 4, then down for three cycles
    assert score_cycle_tick(current=N + 1, length=HOUR, pull=pull) is not None
    rows = {c.number: c for c in ScoringCycle.objects.select_related("weights")}
    assert sorted(rows) == [N - 4, N - 3, N - 2, N - 1, N]
    for number in (N - 3, N - 2, N - 1):
        assert rows[number].finished_at is not None
        assert rows[number].window_start == at(number, 0)
        assert rows[number].weights.status == WeightSubmission.Status.SKIPPED
        assert "not running" in rows[number].weights.reason
    assert rows[N].weights.status == WeightSubmission.Status.PENDING
    assert f"cycles {N - 3}–{N - 1} were not scored" in caplog.text
    assert missed_cycles_record(number=N + 1, length=HOUR) == []  # nothing missed since


def test_a_validator_records_no_missed_cycles_before_its_first(pull):
    assert score_cycle_tick(current=N + 1, length=HOUR, pull=pull) is not None
    assert list(ScoringCycle.objects.values_list("number", flat=True)) == [N]


def test_a_stale_claim_is_taken_over_and_a_fresh_one_is_left_alone(pull):
    MinerFactory.create()
    claim = ScoringCycle.objects.create(number=N, window_start=at(N, 0), window_end=at(N + 1, 0))
    assert score_cycle_tick(current=N + 1, length=HOUR, pull=pull) is None  # someone is on it
    ScoringCycle.objects.filter(pk=claim.pk).update(started_at=timezone.now() - timedelta(hours=1))
    summary = score_cycle_tick(current=N + 1, length=HOUR, pull=pull)
    assert summary is not None
    assert summary.weights == {}  # nobody worked: empty weights, still pending for the weights task
    assert WeightSubmission.objects.get().status == WeightSubmission.Status.PENDING


def test_a_second_validator_that_never_ran_the_job_scores_it_from_pulled_receipts(pull):
    miner = MinerFactory.create(coldkey="")
    job = ReceiptRecordFactory.create(
        miner=miner, at=at(N, 600), source="pulled", validator_hotkey=OTHER_VALIDATOR, seconds=600.0
    )
    ReceiptRecordFactory.create(
        miner=miner, job_uuid=job.job_uuid, kind="job_finished", at=at(N, 900), seconds=900.0,
        source="pulled", validator_hotkey=OTHER_VALIDATOR,
    )  # fmt: skip
    score_cycle(number=N, length=HOUR, pull=pull)
    score = MinerScore.objects.get(hotkey=miner.hotkey)
    assert score.classes == [
        {
            "executor_class": "cpu.small", "claimed": 0, "verified": 0, "value": 1.0, "efficiency": 1.0,
            "multiplier": 1.0, "organic_seconds": 900.0, "benchmark_seconds": 0.0, "points": 900.0,
        }
    ]  # fmt: skip
    assert (score.points, score.score, score.penalties) == (900.0, 900.0, [])
    assert score.grouping == {"coldkey_points": 900.0, "share": 1.0, "main_hotkey": miner.hotkey}


def test_an_honest_miner_with_twice_the_verified_work_gets_twice_the_weight(pull):
    a, b = MinerFactory.create(), MinerFactory.create()
    for miner, seconds in ((a, 1200.0), (b, 2400.0)):
        verified_run(miner, executors=2)
        worked(miner, seconds, source="pulled", validator_hotkey=OTHER_VALIDATOR)
    summary = score_cycle(number=N, length=HOUR, pull=pull)
    assert summary is not None
    weights = summary.weights
    assert weights[b.hotkey] / weights[a.hotkey] == pytest.approx(2.0, rel=0.05)
    assert WeightSubmission.objects.get().values == weights


def test_penalties_and_coldkey_grouping_are_stored_with_the_score(pull):
    main, sibling = MinerFactory.create(coldkey="5Cold"), MinerFactory.create(coldkey="5Cold")
    run = verified_run(main, executors=1)
    BenchmarkCheckFactory.create(cycle=run, miner=main, executor="h1/cpu.small/1", passed=False, reason="late")
    worked(main, 1000.0)
    worked(sibling, 100.0)
    score_cycle(number=N, length=HOUR, pull=pull)
    stored = {s.hotkey: s for s in MinerScore.objects.all()}
    [penalty] = stored[main.hotkey].penalties
    factor = 1 - 0.5 / 3  # VALIDATOR_PENALTY_FAILED_CHECKS × 1 of its 3 checks
    assert penalty == {
        "reason": "failed_checks", "detail": "1 of 3 checks failed (late 1)", "executor_class": "cpu.small",
        "factor": pytest.approx(factor),
    }  # fmt: skip
    main_points = (1000.0 + 2.0) * factor  # organic + its two passed checks' seconds
    assert stored[main.hotkey].points == pytest.approx(main_points)
    assert stored[main.hotkey].score == pytest.approx(0.8 * (main_points + 100.0))
    assert stored[sibling.hotkey].score == pytest.approx(0.2 * (main_points + 100.0))
    assert stored[sibling.hotkey].grouping["main_hotkey"] == main.hotkey


def test_writes_per_cycle_do_not_grow_with_miners(pull):
    def queries_for(number: int, miners: int) -> int:
        for _ in range(miners):
            miner = MinerFactory.create()
            ReceiptRecordFactory.create(miner=miner, at=at(number, 60), seconds=10.0)
        with CaptureQueriesContext(connection) as captured:
            score_cycle(number=number, length=HOUR, pull=pull)
        assert MinerScore.objects.filter(cycle__number=number).count() == Miner.objects.count()
        return len(captured.captured_queries)

    few = queries_for(N, 3)
    many = queries_for(N + 5, 30)
    assert few == many
    assert many <= 20  # the claim, 8 reads, 3 writes, the stand-in pull's count, savepoints


def test_the_beat_task_scores_the_last_cycle_that_ended_a_grace_ago(settings, pull, monkeypatch):
    monkeypatch.setattr("validator.tasks.receipts_pull_all_sync", pull)
    settings.VALIDATOR_CYCLE_S = HOUR
    settings.VALIDATOR_SCORE_GRACE_S = 60.0
    with time_machine.travel(at(N + 1, 30), tick=False):  # N just ended: within the grace, N − 1 is due
        early = score_cycle_task.apply().get()
    with time_machine.travel(at(N + 1, 90), tick=False):
        result = score_cycle_task.apply().get()
        assert score_cycle_task.apply().get() is None  # idempotent
    assert early is not None
    assert result is not None
    assert (early["cycle"], result["cycle"]) == (N - 1, N)
    assert pull.calls == [1, 2]
    assert pull.kwargs == [{"wait": True}] * 2  # the scorer waits for a pull already on


def test_a_failed_pull_is_logged_and_the_cycle_scored_with_the_receipts_held():
    miner = MinerFactory.create()
    worked(miner, 100.0)
    failing = Pull(fails=True)
    summary = score_cycle(number=N, length=HOUR, pull=failing)
    assert summary is not None
    assert summary.weights == {miner.hotkey: 1.0}
    assert failing.calls == [1]
