"""Billing per interval receipt: long jobs charged as they run, never beyond the hold, never for
infrastructure failures, and a job's ledger rows add up to its final cost exactly."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facilitator.models import CreditAccount, CreditTransaction, Job
from facilitator.selectors import job_charged_total
from facilitator.services.cancel import job_cancel
from facilitator.services.credits import credits_grant, credits_price
from facilitator.services.intervals import credits_charge_interval
from facilitator.services.status import job_apply_status_update
from protocol.messages.facilitator import JobIntervalCharge, JobStatusUpdate
from protocol.messages.jobs import JobStatus
from tests.facilitator.factories import FUNDED_CREDITS, facilitator_job
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
VALIDATOR = "5Validator"
INFRA = {"kind": "infrastructure", "reason": "miner_lost"}
# cpu.small costs 0.001 a second: a 3600 s job holds 3.6 credits, a 10-minute interval costs 0.6.
HOLD = Decimal("3.6")


@pytest.fixture
def job(funded_user) -> Job:
    return _running(facilitator_job(user=funded_user, timeout_s=3600))


def _running(job: Job, miner: str = "5Miner1") -> Job:
    assert _report(job, JobStatus.RUNNING, miner_hotkey=miner)
    return job


def _report(job, status, *, seconds=None, failure=None, detail="", miner_hotkey=None) -> bool:
    result = None if seconds is None else {"exit_code": 0, "executor_seconds": seconds}
    update = JobStatusUpdate.model_validate(
        {
            "job_uuid": job.uuid,
            "status": status,
            "result": result,
            "failure": failure,
            "detail": detail,
            "miner_hotkey": miner_hotkey,
        }
    )
    return job_apply_status_update(validator_hotkey=VALIDATOR, update=update)


def _interval(job, attempt, index, seconds=600.0, *, validator=VALIDATOR) -> Decimal | None:
    charge = JobIntervalCharge(job_uuid=job.uuid, attempt=attempt, index=index, seconds=seconds, miner_hotkey="5M")
    return credits_charge_interval(validator_hotkey=validator, charge=charge)


def _retry(job, miner="5Miner1") -> None:
    assert _report(job, JobStatus.DISPATCHED, detail=f"infrastructure failure on {miner}", miner_hotkey=miner)


def _money(job) -> tuple[Decimal, Decimal]:
    account = CreditAccount.objects.get(user_id=job.user_id)
    return account.balance, account.held


def _ledger(job) -> list[tuple[str, int | None, int | None, Decimal]]:
    rows = CreditTransaction.objects.filter(job=job).order_by("id")
    return list(rows.values_list("kind", "attempt", "index", "amount"))


def _ended(job) -> Job:
    job.refresh_from_db()
    assert job_charged_total(job=job) == job.cost  # the rule every ending keeps
    assert _money(job) == (FUNDED_CREDITS - job.cost, Decimal(0))
    return job


def test_intervals_move_money_from_held_to_spent_then_completion_charges_the_rest(job):
    assert _interval(job, 1, 1) == Decimal("0.6")
    assert _interval(job, 1, 2) == Decimal("0.6")
    # Spent out of the hold: the available credits (balance − held) did not move.
    assert _money(job) == (FUNDED_CREDITS - Decimal("1.2"), HOLD - Decimal("1.2"))
    assert _report(job, JobStatus.COMPLETED, seconds=1500)
    assert _ended(job).cost == Decimal("1.5")
    assert _ledger(job) == [
        ("interval", 1, 1, Decimal("0.6")),
        ("interval", 1, 2, Decimal("0.6")),
        ("charge", None, None, Decimal("0.3")),
    ]


def test_cancelled_by_the_user_after_two_intervals_pays_for_what_ran(funded_user):
    no_result = _running(facilitator_job(user=funded_user, timeout_s=3600))
    with_result = _running(facilitator_job(user=funded_user, timeout_s=3600))
    for job in (no_result, with_result):
        _interval(job, 1, 1)
        _interval(job, 1, 2)
        job_cancel(job=job)
    # A cancellation with no final figure is charged what its intervals charged...
    assert _report(no_result, JobStatus.CANCELLED, detail="cancelled; container removed")
    no_result.refresh_from_db()
    assert no_result.cost == job_charged_total(job=no_result) == Decimal("1.2")
    # ...and one with a figure, that figure.
    assert _report(with_result, JobStatus.CANCELLED, seconds=1250)
    with_result.refresh_from_db()
    assert with_result.cost == job_charged_total(job=with_result) == Decimal("1.25")
    account = CreditAccount.objects.get(user=funded_user)
    assert (account.balance, account.held) == (FUNDED_CREDITS - Decimal("2.45"), Decimal(0))


@pytest.mark.parametrize(
    ("status", "failure", "seconds", "cost"),
    [
        (JobStatus.FAILED, {"kind": "job", "reason": "nonzero_exit"}, 700, Decimal("0.7")),
        (JobStatus.FAILED, {"kind": "job", "reason": "nonzero_exit"}, None, Decimal("0.6")),
        (JobStatus.TIMEOUT, {"kind": "job", "reason": "timeout"}, 3600, HOLD),
    ],
)
def test_failing_by_its_own_fault_mid_way_is_charged(job, status, failure, seconds, cost):
    _interval(job, 1, 1)
    assert _report(job, status, seconds=seconds, failure=failure)
    assert _ended(job).cost == cost


def test_final_figure_below_the_intervals_is_refunded_down_to_it(job):
    _interval(job, 1, 1)
    _interval(job, 1, 2)
    assert _report(job, JobStatus.COMPLETED, seconds=900)
    assert _ended(job).cost == Decimal("0.9")
    assert _ledger(job)[-1] == ("refund", None, None, Decimal("-0.3"))


def test_infrastructure_death_mid_way_refunds_the_attempt_and_the_next_one_pays(job):
    _interval(job, 1, 1)
    _interval(job, 1, 2)
    _retry(job)
    # The attempt's charges are back and the whole hold waits for the next attempt.
    assert _money(job) == (FUNDED_CREDITS, HOLD)
    _running(job, miner="5Miner2")
    assert _interval(job, 2, 1) == Decimal("0.6")
    assert _report(job, JobStatus.COMPLETED, seconds=900)
    assert _ended(job).cost == Decimal("0.9")
    assert _ledger(job) == [
        ("interval", 1, 1, Decimal("0.6")),
        ("interval", 1, 2, Decimal("0.6")),
        ("refund", 1, None, Decimal("-1.2")),
        ("interval", 2, 1, Decimal("0.6")),
        ("charge", None, None, Decimal("0.3")),
    ]


@pytest.mark.parametrize(
    ("status", "failure"),
    [(JobStatus.FAILED, INFRA), (JobStatus.REJECTED, {"kind": "infrastructure", "reason": "no_capacity"})],
)
def test_infrastructure_ending_refunds_every_interval(job, status, failure):
    _interval(job, 1, 1)
    _retry(job)
    _running(job, miner="5Miner2")
    _interval(job, 2, 1)
    _interval(job, 2, 2)
    assert _report(job, status, seconds=1200, failure=failure)
    assert _ended(job).cost == 0
    assert [(kind, attempt, amount) for kind, attempt, _, amount in _ledger(job) if kind == "refund"] == [
        ("refund", 1, Decimal("-0.6")),
        ("refund", 2, Decimal("-1.2")),
    ]


def test_charges_are_capped_at_the_hold(funded_user):
    job = _running(facilitator_job(user=funded_user, timeout_s=1000))  # holds 1.0
    assert _interval(job, 1, 1) == Decimal("0.6")
    assert _interval(job, 1, 2) == Decimal("0.4")
    assert _interval(job, 1, 3) == Decimal(0)
    assert _money(job) == (FUNDED_CREDITS - 1, Decimal(0))
    assert _report(job, JobStatus.COMPLETED, seconds=5000)
    assert _ended(job).cost == job.hold == Decimal(1)
    assert [kind for kind, *_ in _ledger(job)] == ["interval"] * 3  # nothing left to settle


def test_duplicates_change_nothing_and_order_does_not_matter(job):
    assert _interval(job, 1, 2) == Decimal("0.6")
    assert _interval(job, 1, 1, 300) == Decimal("0.3")
    assert _interval(job, 1, 2) is None
    assert _interval(job, 1, 1, 600) is None  # a duplicate with another figure is still the same receipt
    assert _money(job) == (FUNDED_CREDITS - Decimal("0.9"), HOLD - Decimal("0.9"))
    assert [(a, i) for _, a, i, _ in _ledger(job)] == [(1, 2), (1, 1)]


def test_late_intervals_of_a_refunded_or_superseded_attempt_are_ignored(job):
    _interval(job, 1, 1)
    _retry(job)
    assert _interval(job, 1, 2) is None  # attempt 1 was refunded: it is closed
    _running(job, miner="5Miner2")
    assert _interval(job, 3, 1) == Decimal("0.6")  # attempt 2 died before any interval
    assert _interval(job, 2, 1) is None  # and its late receipt cannot charge any more
    assert _money(job) == (FUNDED_CREDITS - Decimal("0.6"), HOLD - Decimal("0.6"))


def test_a_newer_attempt_refunds_the_older_one_even_before_its_retry_report(job):
    _interval(job, 1, 1)
    _interval(job, 1, 2)
    # The retry report is still on its way, but only an infrastructure failure starts attempt 2.
    assert _interval(job, 2, 1) == Decimal("0.6")
    assert _money(job) == (FUNDED_CREDITS - Decimal("0.6"), HOLD - Decimal("0.6"))
    _retry(job)  # arrives late: attempt 2's charge is refunded too, as it must be once it ended
    _running(job, miner="5Miner3")
    assert _report(job, JobStatus.COMPLETED, seconds=60)
    assert _ended(job).cost == Decimal("0.06")


def test_an_index_beyond_the_timeout_is_ignored(funded_user):
    job = _running(facilitator_job(user=funded_user, timeout_s=60))
    assert _interval(job, 1, 60, seconds=1) == Decimal("0.001")
    assert _interval(job, 1, 61, seconds=1) is None  # more receipts than seconds: not a real run
    assert _money(job) == (FUNDED_CREDITS - Decimal("0.001"), Decimal("0.059"))


def test_an_interval_from_another_validator_is_ignored(job):
    assert _interval(job, 1, 1, validator="5Intruder") is None
    assert _interval(job, 1, 1) == Decimal("0.6")  # the receipt is still the job's validator's to send
    assert _money(job) == (FUNDED_CREDITS - Decimal("0.6"), HOLD - Decimal("0.6"))


def test_an_interval_for_a_terminal_pending_or_unknown_job_is_ignored(job, funded_user):
    assert _report(job, JobStatus.COMPLETED, seconds=10)
    assert _interval(job, 1, 1) is None
    assert _ended(job).cost == Decimal("0.01")
    pending = facilitator_job(user=funded_user, status="pending")
    Job.objects.filter(uuid=pending.uuid).update(validator_hotkey=VALIDATOR)
    assert _interval(pending, 1, 1) is None
    assert _interval(Job(uuid="00000000-0000-0000-0000-000000000000"), 1, 1) is None
    assert CreditTransaction.objects.filter(kind__in=["interval", "refund"]).count() == 0


def test_constraints_back_the_idempotency(job):
    _interval(job, 1, 1)
    _retry(job)
    account = CreditAccount.objects.get(user_id=job.user_id)
    INTERVAL, REFUND = CreditTransaction.Kind.INTERVAL, CreditTransaction.Kind.REFUND
    for row in (
        {"kind": INTERVAL, "attempt": 1, "index": 1},  # the same receipt twice
        {"kind": REFUND, "attempt": 1},  # the same attempt refunded twice
        {"kind": INTERVAL, "attempt": None, "index": 3},  # an interval that names no receipt
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            CreditTransaction.objects.create(account=account, job=job, amount=Decimal(0), **row)


# --- a property over random runs -------------------------------------------------------------

steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("interval"),
            st.sampled_from([-1, 0, 0, 0, 1]),  # mostly the current attempt; some late, some early
            st.integers(1, 6),
            st.floats(0, 900, allow_nan=False),
        ),
        st.tuples(st.just("retry")),
        st.tuples(st.just("running")),
    ),
    max_size=14,
)
endings = st.sampled_from(
    [
        (JobStatus.COMPLETED, None, True),
        (JobStatus.FAILED, {"kind": "job", "reason": "nonzero_exit"}, True),
        (JobStatus.TIMEOUT, {"kind": "job", "reason": "timeout"}, True),
        (JobStatus.CANCELLED, None, True),
        (JobStatus.FAILED, INFRA, False),
        (JobStatus.REJECTED, {"kind": "infrastructure", "reason": "no_capacity"}, False),
    ]
)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    timeout_s=st.integers(60, 3600),
    run=steps,
    ending=endings,
    final_seconds=st.none() | st.floats(0, 5000, allow_nan=False),
)
def test_any_run_conserves_credits_and_sums_to_its_cost(executor_classes, timeout_s, run, ending, final_seconds):
    user = UserFactory.create()
    credits_grant(user=user, amount=FUNDED_CREDITS)
    job = _running(facilitator_job(user=user, timeout_s=timeout_s))
    available = FUNDED_CREDITS - job.hold
    attempt = 1
    for n, step in enumerate(run):
        if step[0] == "interval":
            _, delta, index, seconds = step
            _interval(job, max(1, attempt + delta), index, seconds)
        elif step[0] == "retry":
            _report(job, JobStatus.DISPATCHED, detail=f"attempt {attempt} lost ({n})")
            attempt += 1
        else:
            _report(job, JobStatus.RUNNING, detail=f"attempt {attempt} started ({n})")
        balance, held = _money(job)
        assert 0 <= job_charged_total(job=job) <= job.hold
        assert balance - held == available  # charges are spent out of the hold, never beyond it
    status, failure, charged = ending
    assert _report(job, status, seconds=final_seconds, failure=failure)
    job = _ended(job)  # Σ ledger == cost, held back to 0, balance down by the cost only
    assert job.cost is not None
    assert 0 <= job.cost <= job.hold
    if not charged:
        assert job.cost == 0
    elif final_seconds is not None and (status != JobStatus.CANCELLED or job.started_at is not None):
        assert job.cost == min(credits_price(job=job, seconds=final_seconds), job.hold)
