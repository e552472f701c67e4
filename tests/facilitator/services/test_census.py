"""Storing census reports (facilitator/services/census.py): one row per report, bounded per
validator by count and, for everyone, by age."""

from datetime import timedelta

import pytest
from django.utils import timezone

import facilitator.services.census
from facilitator.models import ExecutorCensusReport
from facilitator.services.census import CENSUS_KEEP, executor_census_record
from protocol.messages.facilitator import ClassCensus, ExecutorCensus

pytestmark = pytest.mark.django_db
A, B = "5ValidatorA" + "a" * 37, "5ValidatorB" + "b" * 37


def _census(cycle: int) -> ExecutorCensus:
    small = ClassCensus(executor_class="cpu.small", miners=1, claimed=2, verified=cycle)
    return ExecutorCensus(cycle=cycle, at=timezone.now(), classes=[small])


def test_each_validator_keeps_only_its_newest_reports(monkeypatch):
    monkeypatch.setattr(facilitator.services.census, "CENSUS_KEEP_PER_VALIDATOR", 3)
    for cycle in range(5):
        executor_census_record(validator_hotkey=A, census=_census(cycle))
    executor_census_record(validator_hotkey=B, census=_census(9))
    kept = ExecutorCensusReport.objects.order_by("id").values_list("validator_hotkey", "cycle")
    assert list(kept) == [(A, 2), (A, 3), (A, 4), (B, 9)]


def test_reports_older_than_the_longest_window_are_pruned():
    old = executor_census_record(validator_hotkey=B, census=_census(1))
    ExecutorCensusReport.objects.filter(id=old.id).update(received_at=timezone.now() - CENSUS_KEEP - timedelta(hours=1))
    recent = executor_census_record(validator_hotkey=B, census=_census(1))
    ExecutorCensusReport.objects.filter(id=recent.id).update(received_at=timezone.now() - timedelta(days=6))
    new = executor_census_record(validator_hotkey=A, census=_census(2))
    assert set(ExecutorCensusReport.objects.values_list("id", flat=True)) == {recent.id, new.id}
    assert new.classes == [{"executor_class": "cpu.small", "miners": 1, "claimed": 2, "verified": 2}]
