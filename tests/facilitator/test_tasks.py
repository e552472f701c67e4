"""The facilitator's periodic tasks: one service call each, idempotent, so acked late."""

import pytest

from facilitator import tasks


@pytest.mark.parametrize(
    ("task", "service"),
    [(tasks.dispatch_pending_jobs, "jobs_dispatch_pending"), (tasks.expire_stale_jobs, "jobs_expire_stale")],
)
def test_each_task_is_one_service_call_acked_late_without_retries(task, service, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(tasks, service, lambda: 3)
    assert task.apply().get() == 3
    assert task.acks_late is True
    assert not getattr(task, "autoretry_for", ())  # the next beat, seconds later, is the retry


@pytest.mark.django_db
def test_dispatching_with_nothing_pending_dispatches_nothing():
    assert tasks.dispatch_pending_jobs.apply().get() == 0
    assert tasks.expire_stale_jobs.apply().get() == 0
