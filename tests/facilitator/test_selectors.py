"""The facilitator's reads (facilitator/selectors/): a user sees only their own jobs, dispatch
reads the queue oldest first, validators' holdings and sessions, tokens, and the dashboard figures."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from asgiref.sync import sync_to_async

from facilitator.models import ExecutorCensusReport, ValidatorSession
from facilitator.selectors import (
    api_token_user_aget,
    credit_balance_get,
    job_get,
    job_last_event,
    job_list,
    job_output_get,
    jobs_held_by_validator,
    jobs_in_flight_per_validator,
    jobs_pending_uuids,
    validator_is_live,
    validator_last_disconnected_at,
    validator_sessions_live,
)
from facilitator.selectors.figures import (
    ClassCensusFigures,
    executor_census_buckets,
    executor_census_latest,
    executor_classes_willing,
    job_counts_by_status,
    job_failure_counts,
    job_median_seconds_per_class,
    miner_executor_seconds,
)
from protocol.messages.common import FailureKind
from protocol.messages.jobs import JobStatus
from tests.facilitator.factories import (
    CreditAccountFactory,
    JobFactory,
    JobOutputFactory,
    JobStatusEventFactory,
    TokenFactory,
    ValidatorSessionFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _job_at(at: datetime, **fields):
    with time_machine.travel(at, tick=False):
        return JobFactory.create(**fields)


def test_job_list_is_the_users_own_newest_first_with_history_in_order():
    user, other = UserFactory.create(), UserFactory.create()
    old = _job_at(T0, user=user)
    new = _job_at(T0 + timedelta(minutes=1), user=user)
    _job_at(T0, user=other)
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        second = JobStatusEventFactory.create(job=new, status=JobStatus.DISPATCHED)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        first = JobStatusEventFactory.create(job=new, status=JobStatus.PENDING)
    JobOutputFactory.create(job=old)

    jobs = list(job_list(user=user))
    assert [job.uuid for job in jobs] == [new.uuid, old.uuid]
    assert [job.has_output for job in jobs] == [False, True]  # type: ignore[attr-defined]  # an annotation
    assert list(jobs[0].history.all()) == [first, second]


def test_job_list_filters_by_status_and_tag():
    user = UserFactory.create()
    running = JobFactory.create(user=user, status=JobStatus.RUNNING, tag="a")
    JobFactory.create(user=user, status=JobStatus.RUNNING, tag="b")
    JobFactory.create(user=user, status=JobStatus.PENDING, tag="a")
    assert list(job_list(user=user, filters={"status": "running", "tag": "a"})) == [running]
    assert list(job_list(user=user, filters={"status": "timeout"})) == []


def test_job_and_output_gets_are_none_for_another_user_or_an_unknown_uuid():
    owner, other = UserFactory.create(), UserFactory.create()
    output = JobOutputFactory.create(job__user=owner)
    assert job_get(user=owner, job_uuid=output.job.uuid) == output.job
    assert job_output_get(user=owner, job_uuid=output.job.uuid) == output
    assert job_get(user=other, job_uuid=output.job.uuid) is None
    assert job_output_get(user=other, job_uuid=output.job.uuid) is None
    assert job_get(user=owner, job_uuid=uuid.uuid4()) is None
    assert job_output_get(user=owner, job_uuid=JobFactory.create(user=owner).uuid) is None


def test_job_last_event():
    job = JobFactory.create()
    assert job_last_event(job=job) is None
    with time_machine.travel(T0, tick=False):
        JobStatusEventFactory.create(job=job, status=JobStatus.PENDING)
        # Same instant: the later row wins.
        last = JobStatusEventFactory.create(job=job, status=JobStatus.DISPATCHED)
    assert job_last_event(job=job) == last


def test_pending_jobs_are_read_oldest_first_up_to_the_limit():
    jobs = [_job_at(T0 + timedelta(seconds=s)) for s in (3, 1, 2)]
    _job_at(T0, status=JobStatus.DISPATCHED)
    assert jobs_pending_uuids(limit=10) == [jobs[1].uuid, jobs[2].uuid, jobs[0].uuid]
    assert jobs_pending_uuids(limit=1) == [jobs[1].uuid]


def test_a_validator_holds_its_unfinished_jobs_only():
    held = [JobFactory.create(validator_hotkey="5V", status=s) for s in (JobStatus.DISPATCHED, JobStatus.RUNNING)]
    for status in (JobStatus.COMPLETED, JobStatus.CANCELLED):
        JobFactory.create(validator_hotkey="5V", status=status)
    JobFactory.create(validator_hotkey="5Other", status=JobStatus.RUNNING)
    assert set(jobs_held_by_validator(hotkey="5V")) == set(held)
    assert list(jobs_held_by_validator(hotkey="5Nobody")) == []


def test_in_flight_counts_per_validator():
    for hotkey, status in [("5A", JobStatus.DISPATCHED), ("5A", JobStatus.RUNNING), ("5B", JobStatus.RUNNING)]:
        JobFactory.create(validator_hotkey=hotkey, status=status)
    JobFactory.create(validator_hotkey="5A", status=JobStatus.COMPLETED)
    JobFactory.create(status=JobStatus.PENDING)
    assert jobs_in_flight_per_validator() == {"5A": 2, "5B": 1}


def test_credit_balance_of_a_user_with_and_without_an_account():
    account = CreditAccountFactory.create(balance=Decimal("7.5"), held=Decimal("2"))
    assert credit_balance_get(user=account.user) == (Decimal("7.5"), Decimal("2"))
    assert credit_balance_get(user=UserFactory.create()) == (Decimal(0), Decimal(0))


def test_live_validator_sessions():
    live = ValidatorSessionFactory.create(hotkey="5V")
    ValidatorSessionFactory.create(hotkey="5V", disconnected_at=T0)
    ValidatorSessionFactory.create(hotkey="5Gone", disconnected_at=T0)
    other = ValidatorSessionFactory.create(hotkey="5W")
    assert set(validator_sessions_live()) == {live, other}
    assert validator_sessions_live(hotkey="5V") == [live]
    assert (validator_is_live(hotkey="5V"), validator_is_live(hotkey="5Gone")) == (True, False)


def test_a_validators_last_disconnect_is_its_newest_closed_session():
    ValidatorSessionFactory.create(hotkey="5V", disconnected_at=T0)
    ValidatorSessionFactory.create(hotkey="5V", disconnected_at=T0 + timedelta(minutes=5))
    ValidatorSessionFactory.create(hotkey="5V")  # the live one has no end yet
    ValidatorSessionFactory.create(hotkey="5W", disconnected_at=T0 + timedelta(hours=1))
    assert validator_last_disconnected_at(hotkey="5V") == T0 + timedelta(minutes=5)
    assert validator_last_disconnected_at(hotkey="5Never") is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_async_db")
async def test_api_token_user_is_the_active_owner_only():
    token = await sync_to_async(TokenFactory.create)()
    assert await api_token_user_aget(key=token.key) == token.user
    assert await api_token_user_aget(key="not-a-token") is None
    token.user.is_active = False
    await token.user.asave()
    assert await api_token_user_aget(key=token.key) is None


def test_dashboard_figures_count_only_jobs_since_the_cutoff():
    since = T0
    _job_at(since - timedelta(seconds=1), status=JobStatus.FAILED, failure_kind=FailureKind.JOB, miner_hotkey="5M1")
    for status in (JobStatus.COMPLETED, JobStatus.COMPLETED, JobStatus.FAILED):
        _job_at(since, status=status)
    assert job_counts_by_status(since=since) == [("completed", 2), ("failed", 1)]
    assert job_failure_counts(since=since) == []


def test_miner_executor_seconds_most_first_up_to_the_limit():
    for hotkey, seconds in [("5M1", 1.0), ("5M1", 2.0), ("5M2", 10.0), ("", 99.0)]:
        _job_at(T0, miner_hotkey=hotkey, executor_seconds=seconds)
    _job_at(T0 - timedelta(seconds=1), miner_hotkey="5M9", executor_seconds=500.0)  # before the cutoff
    assert miner_executor_seconds(since=T0, limit=5) == [("5M2", 10.0), ("5M1", 3.0)]
    assert miner_executor_seconds(since=T0, limit=1) == [("5M2", 10.0)]


def test_a_miner_without_executor_seconds_ranks_last():
    _job_at(T0, miner_hotkey="5Worked", executor_seconds=10.0)
    _job_at(T0, miner_hotkey="5Idle", executor_seconds=None)
    assert miner_executor_seconds(since=T0, limit=5) == [("5Worked", 10.0), ("5Idle", 0)]


def test_failure_counts_by_kind_and_reason():
    for kind, reason in [
        (FailureKind.JOB, "nonzero_exit"),
        (FailureKind.JOB, "nonzero_exit"),
        (FailureKind.INFRASTRUCTURE, "miner_lost"),
    ]:
        _job_at(T0, status=JobStatus.FAILED, failure_kind=kind, failure_reason=reason)
    _job_at(T0, status=JobStatus.COMPLETED)
    assert sorted(job_failure_counts(since=T0)) == [("infrastructure", "miner_lost", 1), ("job", "nonzero_exit", 2)]


def test_median_seconds_per_class_of_finished_jobs():
    for cls, took in [("cpu.small", 10), ("cpu.small", 20), ("cpu.small", 60), ("cpu.large", 5)]:
        _job_at(T0, executor_class=cls, finished_at=T0 + timedelta(seconds=took))
    _job_at(T0, executor_class="cpu.large", status=JobStatus.RUNNING)  # not finished: not counted
    assert job_median_seconds_per_class(since=T0) == [("cpu.large", 5.0), ("cpu.small", 20.0)]
    assert job_median_seconds_per_class(since=T0 + timedelta(hours=1)) == []


# --- executors verified vs claimed, from the validators' census reports


def _report(hotkey: str, *, at: datetime, **classes: tuple[int, int, int]) -> None:
    """A census of `hotkey` received at `at`: class=(miners, claimed, verified)."""
    rows = [
        {"executor_class": name.replace("_", "."), "miners": m, "claimed": c, "verified": v}
        for name, (m, c, v) in classes.items()
    ]
    report = ExecutorCensusReport.objects.create(validator_hotkey=hotkey, cycle=1, reported_at=at, classes=rows)
    ExecutorCensusReport.objects.filter(id=report.id).update(received_at=at)


def _figures(miners: int, claimed: int, verified: int) -> ClassCensusFigures:
    return ClassCensusFigures(miners=miners, claimed=claimed, verified=verified)


def test_the_latest_census_combines_connected_validators_by_the_highest_figure():
    now = datetime.now(UTC)
    a, b, gone = (ValidatorSessionFactory.create() for _ in range(3))
    ValidatorSession.objects.filter(id=gone.id).update(disconnected_at=now)
    _report(a.hotkey, at=now - timedelta(minutes=30), cpu_small=(9, 9, 9))  # superseded by a's newer one
    _report(a.hotkey, at=now - timedelta(minutes=1), cpu_small=(2, 5, 3), gpu_a100=(1, 1, 0))
    _report(b.hotkey, at=now - timedelta(minutes=2), cpu_small=(2, 4, 4))
    _report(gone.hotkey, at=now, cpu_small=(50, 50, 50))  # no longer connected: not counted
    assert executor_census_latest() == {"cpu.small": _figures(2, 5, 4), "gpu.a100": _figures(1, 1, 0)}


def test_no_connected_validator_reported_means_no_census():
    _report("5Silent" + "s" * 41, at=datetime.now(UTC), cpu_small=(1, 1, 1))
    assert executor_census_latest() == {}


def test_willingness_combines_connected_validators_and_skips_reports_without_it():
    now = datetime.now(UTC)
    a, b, old = (ValidatorSessionFactory.create() for _ in range(3))
    _report(a.hotkey, at=now, cpu_small=(3, 6, 6))
    _report(b.hotkey, at=now, cpu_small=(3, 6, 5))
    _report(old.hotkey, at=now, cpu_large=(1, 1, 1))  # a validator from before price floors
    ExecutorCensusReport.objects.filter(validator_hotkey=a.hotkey).update(
        classes=[{"executor_class": "cpu.small", "miners": 3, "claimed": 6, "verified": 6,
                  "willing_miners": 1, "willing_executors": 2}]
    )  # fmt: skip
    ExecutorCensusReport.objects.filter(validator_hotkey=b.hotkey).update(
        classes=[{"executor_class": "cpu.small", "miners": 3, "claimed": 6, "verified": 5,
                  "willing_miners": 2, "willing_executors": 1}]
    )  # fmt: skip
    assert executor_classes_willing() == {"cpu.small": {"willing_miners": 2, "willing_executors": 2}}


def test_census_buckets_take_each_validators_latest_report_in_the_bucket():
    with time_machine.travel(datetime(2026, 5, 1, 12, 30, tzinfo=UTC), tick=False):
        hour = datetime(2026, 5, 1, 11, tzinfo=UTC)
        _report("5A", at=hour + timedelta(minutes=5), cpu_small=(1, 4, 1))
        _report("5A", at=hour + timedelta(minutes=50), cpu_small=(1, 4, 2))
        _report("5B", at=hour + timedelta(minutes=20), cpu_small=(1, 3, 3))
        _report("5A", at=hour + timedelta(minutes=70), cpu_small=(1, 4, 4), gpu_a100=(1, 2, 0))
        _report("5A", at=hour - timedelta(days=2), cpu_small=(7, 7, 7))  # outside the window
        buckets = executor_census_buckets(since=datetime.now(UTC) - timedelta(days=1), step="hour")
    assert buckets == {
        "cpu.small": {hour: _figures(1, 4, 3), hour + timedelta(hours=1): _figures(1, 4, 4)},
        "gpu.a100": {hour + timedelta(hours=1): _figures(1, 2, 0)},
    }
