"""Scores committed over the DHT: those of the latest finished scoring cycle."""

import pytest

from tests.validator.factories import MinerScoreFactory, ScoringCycleFactory
from validator.services.scores import cycle_scores

pytestmark = pytest.mark.django_db


def test_nothing_to_commit_before_a_cycle_is_scored():
    assert cycle_scores(1) is None
    ScoringCycleFactory.create(number=7, finished_at=None)  # being scored: not yet
    assert cycle_scores(1) is None


def test_the_latest_finished_cycles_scores_above_zero():
    old = ScoringCycleFactory.create(number=5)
    MinerScoreFactory.create(cycle=old, hotkey="5A", points=9.0)
    last = ScoringCycleFactory.create(number=6)
    MinerScoreFactory.create(cycle=last, hotkey="5A", points=2.0)
    MinerScoreFactory.create(cycle=last, hotkey="5B", points=0.5)
    MinerScoreFactory.create(cycle=last, hotkey="5C", points=0.0)  # nothing to say about it
    running = ScoringCycleFactory.create(number=7, finished_at=None)
    MinerScoreFactory.create(cycle=running, hotkey="5A", points=100.0)

    assert cycle_scores(42) == {"5A": 2.0, "5B": 0.5}


def test_a_scored_cycle_where_nobody_earned_commits_nothing():
    MinerScoreFactory.create(cycle=ScoringCycleFactory.create(number=3), hotkey="5A", points=0.0)
    assert cycle_scores(1) == {}
