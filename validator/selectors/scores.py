"""Selectors of scores and weights: the cycles API, the scores dashboard and the weights submitter."""

from datetime import datetime
from typing import TypedDict

from django.db.models import Prefetch, QuerySet

from validator.models import MinerScore, ScoringCycle, WeightSubmission


def weight_submissions_pending() -> list[WeightSubmission]:
    """Submissions the chain has not taken yet, newest cycle first."""
    rows = WeightSubmission.objects.filter(status=WeightSubmission.Status.PENDING).select_related("cycle")
    return list(rows.order_by("-cycle__number"))


def weight_submissions_committed() -> QuerySet[WeightSubmission]:
    """Committed submissions waiting for their reveal."""
    rows = WeightSubmission.objects.filter(status=WeightSubmission.Status.COMMITTED).select_related("cycle")
    return rows.order_by("id")


# --- scores and weights: the cycles API and the scores dashboard (docs/scoring.md)


class PenaltyReport(TypedDict):
    reason: str
    detail: str
    executor_class: str  # "" when the penalty is not a class's
    factor: float  # what it multiplied the class's multiplier by


class ClassReport(TypedDict):
    executor_class: str
    claimed: int
    verified: int
    efficiency: float
    organic_seconds: float
    benchmark_seconds: float
    value: float  # the class's relative value
    multiplier: float  # the product of its penalties' factors
    points: float


class ScoreReport(TypedDict):
    hotkey: str
    coldkey: str
    score: float
    points: float  # before coldkey grouping
    penalties: list[PenaltyReport]
    classes: list[ClassReport]


class WeightsReport(TypedDict):
    status: str
    block: int | None
    values: dict[str, float]
    reason: str


class CycleReport(TypedDict):
    cycle: int
    started_at: datetime
    finished_at: datetime | None
    miners: list[ScoreReport]
    weights: WeightsReport


def scoring_cycles_finished() -> "QuerySet[ScoringCycle]":
    """Finished cycles, newest first, with their scores and weights: a page of them costs two
    queries, however many cycles and miners it holds (render each with `cycle_report`)."""
    scores = Prefetch("scores", queryset=MinerScore.objects.order_by("-score", "hotkey"))
    finished = ScoringCycle.objects.filter(finished_at__isnull=False).select_related("weights")
    return finished.prefetch_related(scores).order_by("-number")


def cycle_report(cycle: ScoringCycle) -> CycleReport:
    """One cycle as the API shows it. Scores' JSON inputs are read with defaults, so a row stored
    by an older scorer still renders."""
    try:
        weights: WeightSubmission | None = cycle.weights
    except WeightSubmission.DoesNotExist:
        weights = None
    return CycleReport(
        cycle=cycle.number,
        started_at=cycle.started_at,
        finished_at=cycle.finished_at,
        miners=[_score_report(score) for score in cycle.scores.all()],
        weights=_weights_report(weights),
    )


def _score_report(score: MinerScore) -> ScoreReport:
    return ScoreReport(
        hotkey=score.hotkey,
        coldkey=score.coldkey,
        score=score.score,
        points=score.points,
        penalties=[
            PenaltyReport(
                reason=str(p.get("reason", "")),
                detail=str(p.get("detail", "")),
                executor_class=str(p.get("executor_class") or ""),
                factor=float(p.get("factor", 1.0)),
            )
            for p in score.penalties
        ],
        classes=[
            ClassReport(
                executor_class=str(c.get("executor_class", "")),
                claimed=int(c.get("claimed", 0)),
                verified=int(c.get("verified", 0)),
                efficiency=float(c.get("efficiency", 1.0)),
                organic_seconds=float(c.get("organic_seconds", 0.0)),
                benchmark_seconds=float(c.get("benchmark_seconds", 0.0)),
                value=float(c.get("value", 0.0)),
                multiplier=float(c.get("multiplier", 1.0)),
                points=float(c.get("points", 0.0)),
            )
            for c in score.classes
        ],
    )


def _weights_report(weights: WeightSubmission | None) -> WeightsReport:
    if weights is None:  # scored, the weights task has not made its row yet
        return WeightsReport(status=WeightSubmission.Status.PENDING, block=None, values={}, reason="")
    values = {str(k): float(v) for k, v in weights.values.items()}
    return WeightsReport(status=weights.status, block=weights.block, values=values, reason=weights.reason)
