"""The cycles API: each finished cycle's scores, their inputs and the weights, exactly as DESIGN.md's
"Validator API" says (plus additive fields), newest first, paginated, public, and a bounded number of
queries however many miners a cycle scored."""

from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.validator.factories import MinerScoreFactory, ScoringCycleFactory, WeightSubmissionFactory, score_class
from validator.models import WeightSubmission

pytestmark = pytest.mark.django_db
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LIST, LATEST = "/api/v1/cycles/", "/api/v1/cycles/latest/"


@pytest.fixture
def client() -> APIClient:
    cache.clear()  # the rate throttle counts in the cache
    return APIClient()  # no token: the API is public


def scored_cycle(number: int, *, miners: int = 1, finished: bool = True) -> None:
    cycle = ScoringCycleFactory.create(number=number, finished_at=AT if finished else None)
    cycle.started_at = AT.replace(minute=0)
    cycle.save(update_fields=["started_at"])
    for i in range(miners):
        MinerScoreFactory.create(cycle=cycle, hotkey=f"5M{number}-{i:03d}", score=100.0 - i)
    WeightSubmissionFactory.create(cycle=cycle, values={f"5M{number}-000": 1.0})


def test_latest_shows_every_input_of_every_score_and_the_weights(client):
    cycle = ScoringCycleFactory.create(number=42, finished_at=AT)
    cycle.started_at = datetime(2025, 3, 1, 11, 50, tzinfo=UTC)
    cycle.save(update_fields=["started_at"])
    penalty = {"reason": "late", "detail": "1 of 2 checks late", "executor_class": "cpu.small", "factor": 0.75}
    MinerScoreFactory.create(
        cycle=cycle,
        hotkey="5Second",
        coldkey="5ColdB",
        points=100.0,
        score=80.0,
        classes=[score_class(claimed=3, verified=1, efficiency=0.8, points=100.0, multiplier=0.75)],
        penalties=[penalty],
    )
    MinerScoreFactory.create(cycle=cycle, hotkey="5First", coldkey="5ColdA", points=630.0, score=630.0)
    WeightSubmissionFactory.create(
        cycle=cycle, status=WeightSubmission.Status.REVEALED, block=1234, values={"5First": 0.887, "5Second": 0.113}
    )

    response = client.get(LATEST)

    assert response.status_code == 200
    first_class = {
        "executor_class": "cpu.small",
        "claimed": 2,
        "verified": 2,
        "efficiency": 1.0,
        "organic_seconds": 600.0,
        "benchmark_seconds": 30.0,
        "value": 1.0,
        "multiplier": 1.0,
        "points": 630.0,
    }
    assert response.json() == {
        "cycle": 42,
        "started_at": "2025-03-01T11:50:00Z",
        "finished_at": "2025-03-01T12:00:00Z",
        "miners": [  # highest score first
            {
                "hotkey": "5First",
                "coldkey": "5ColdA",
                "score": 630.0,
                "points": 630.0,
                "penalties": [],
                "classes": [first_class],
            },
            {
                "hotkey": "5Second",
                "coldkey": "5ColdB",
                "score": 80.0,
                "points": 100.0,
                "penalties": [penalty],
                "classes": [
                    first_class
                    | {"claimed": 3, "verified": 1, "efficiency": 0.8, "multiplier": 0.75}
                    | {"points": 100.0}
                ],
            },
        ],
        "weights": {"status": "revealed", "block": 1234, "values": {"5First": 0.887, "5Second": 0.113}, "reason": ""},
    }


def test_a_skipped_tempo_says_why(client):
    cycle = ScoringCycleFactory.create(number=7)
    WeightSubmissionFactory.create(
        cycle=cycle, status=WeightSubmission.Status.SKIPPED, block=None, reason="chain error: NotRegistered"
    )
    weights = client.get(LATEST).json()["weights"]
    assert weights == {"status": "skipped", "block": None, "values": {}, "reason": "chain error: NotRegistered"}


def test_a_cycle_scored_before_its_weights_row_exists_shows_them_pending(client):
    ScoringCycleFactory.create(number=8)
    body = client.get(LATEST).json()
    assert body["miners"] == []
    assert body["weights"] == {"status": "pending", "block": None, "values": {}, "reason": ""}


def test_a_score_stored_without_some_inputs_still_renders_with_defaults(client):
    cycle = ScoringCycleFactory.create(number=9)
    MinerScoreFactory.create(
        cycle=cycle, classes=[{"executor_class": "cpu.small", "claimed": 1}], penalties=[{"reason": "declined_free"}]
    )
    miner = client.get(LATEST).json()["miners"][0]
    assert miner["penalties"] == [{"reason": "declined_free", "detail": "", "executor_class": "", "factor": 1.0}]
    assert miner["classes"][0]["verified"] == 0
    assert miner["classes"][0]["efficiency"] == 1.0


def test_latest_is_a_json_404_before_any_cycle_finished(client):
    ScoringCycleFactory.create(number=3, finished_at=None)  # still being scored
    response = client.get(LATEST)
    assert response.status_code == 404
    assert response.json() == {"detail": "no scoring cycle has finished on this validator yet"}


def test_latest_is_the_newest_finished_cycle_not_one_in_progress(client):
    scored_cycle(10)
    scored_cycle(11)
    scored_cycle(12, finished=False)
    assert client.get(LATEST).json()["cycle"] == 11


def test_the_list_is_empty_before_any_cycle(client):
    response = client.get(LIST)
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_the_list_is_paginated_newest_first_and_hides_unfinished_cycles(client):
    for number in range(1, 6):
        scored_cycle(number)
    scored_cycle(6, finished=False)

    first = client.get(LIST, {"limit": 2}).json()
    assert first["count"] == 5
    assert [c["cycle"] for c in first["results"]] == [5, 4]
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert [c["cycle"] for c in second["results"]] == [3, 2]
    last = client.get(second["next"]).json()
    assert [c["cycle"] for c in last["results"]] == [1]
    assert last["next"] is None
    assert first["results"][0] == client.get(LATEST).json()  # the same shape as latest


def test_a_page_is_bounded_whatever_limit_is_asked(client):
    for number in range(1, 4):
        scored_cycle(number)
    assert len(client.get(LIST, {"limit": 10**9}).json()["results"]) == 3
    assert client.get(LIST, {"limit": "lots"}).status_code == 200  # DRF falls back to the default size


def _queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", [LIST, LATEST])
def test_queries_do_not_grow_with_miners_or_cycles(client, url):
    scored_cycle(1, miners=1)
    few = _queries(client, url)
    for number in range(2, 6):
        scored_cycle(number, miners=20)
    assert _queries(client, url) == few
