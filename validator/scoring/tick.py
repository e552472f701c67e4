"""The beat's entry into scoring: score the last completed cycle once, with every validator's receipts.

Inserting the cycle's `ScoringCycle` row (its number is unique) is the claim, so a cycle is scored
once however many ticks or workers there are; a claim whose worker died (no `finished_at` after
STALE_CLAIM) is taken over by a conditional update. The receipt pull (passed in by the task:
validator.receipts is a sibling package) runs first, outside any transaction as it talks to
miners; then gathering, the formula and every write happen in one
transaction: one `MinerScore` per miner (bulk) and one pending `WeightSubmission`."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from validator.models import MinerScore, ScoringCycle, WeightSubmission
from validator.scoring.formula import MinerResult, scores_compute, weights_normalise
from validator.scoring.inputs import scoring_inputs_gather, scoring_params

logger = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=10)  # well past the task's time limit: its worker is gone
MAX_MISSED_RECORDED = 48  # a validator back after a long outage records this many missed cycles at most
MISSED_REASON = "not scored: this validator was not running when the cycle ended"


@dataclass(frozen=True)
class ScoreSummary:
    cycle: int
    miners: int
    scored: int  # miners with a score above 0
    weights: dict[str, float]


def _claim(number: int, window_start: datetime, window_end: datetime) -> ScoringCycle | None:
    try:
        with transaction.atomic():
            return ScoringCycle.objects.create(number=number, window_start=window_start, window_end=window_end)
    except IntegrityError:
        pass
    now = timezone.now()
    stale = ScoringCycle.objects.filter(number=number, finished_at=None, started_at__lt=now - STALE_CLAIM)
    if stale.update(started_at=now) != 1:
        return None  # scored, or being scored by another worker
    logger.warning("scoring: cycle %s: took over a stale claim", number)
    return ScoringCycle.objects.get(number=number)


def _pull_receipts(pull: Callable[[], object]) -> None:
    """Every miner's receipts first, so every validator's work of the cycle is scored."""
    try:
        pull()
    except Exception:
        # The pull records each miner's failure itself; score with the receipts we hold.
        logger.exception("scoring: the receipt pull failed; scoring with the receipts held")


def scoring_results_store(*, cycle: ScoringCycle, results: list[MinerResult]) -> dict[str, float]:
    """One MinerScore per miner and the cycle's pending weights; returns the weights. Run in the
    transaction that sets `finished_at`, so a taken-over claim never holds earlier rows."""
    MinerScore.objects.bulk_create(
        MinerScore(
            cycle=cycle,
            hotkey=r.hotkey,
            coldkey=r.coldkey,
            points=r.points,
            score=r.score,
            classes=[c.as_dict() for c in r.classes],
            penalties=[p.as_dict() for p in r.penalties],
            grouping=r.grouping.as_dict(),
        )
        for r in results
    )
    weights = weights_normalise({r.hotkey: r.score for r in results})
    WeightSubmission.objects.create(cycle=cycle, status=WeightSubmission.Status.PENDING, values=weights)
    cycle.finished_at = timezone.now()
    cycle.save(update_fields=["finished_at"])
    return weights


def score_cycle(*, number: int, length: float, pull: Callable[[], object]) -> ScoreSummary | None:
    """Scores cycle `number` (cycles of `length` seconds) after `pull()` (the receipt pull: the
    caller passes it, validator.receipts being a sibling package) unless it is (being) scored
    already; None then."""
    window_start = datetime.fromtimestamp(number * length, tz=UTC)
    window_end = datetime.fromtimestamp((number + 1) * length, tz=UTC)
    cycle = _claim(number, window_start, window_end)
    if cycle is None:
        return None
    _pull_receipts(pull)
    with transaction.atomic():
        inputs = scoring_inputs_gather(number=number, window_start=window_start, window_end=window_end)
        results = scores_compute(inputs, scoring_params(window_s=length))
        weights = scoring_results_store(cycle=cycle, results=results)
    summary = ScoreSummary(number, len(results), sum(1 for r in results if r.score > 0), weights)
    logger.info("scoring: cycle %s: %s miners, %s with a score", number, summary.miners, summary.scored)
    return summary


def missed_cycles_record(*, number: int, length: float) -> list[int]:
    """Cycles between the last one scored here and `number` that nobody scored (the validator was
    down at their end): each gets a row and weights `skipped` with the reason, so a missed tempo
    is visible in the API and the admin, never silent. None before this validator's first cycle."""
    last = ScoringCycle.objects.filter(number__lt=number).order_by("-number").values_list("number", flat=True).first()
    if last is None or last >= number - 1:
        return []
    missed = list(range(max(last + 1, number - MAX_MISSED_RECORDED), number))
    now = timezone.now()
    with transaction.atomic():
        cycles = ScoringCycle.objects.bulk_create(
            [
                ScoringCycle(
                    number=n,
                    window_start=datetime.fromtimestamp(n * length, tz=UTC),
                    window_end=datetime.fromtimestamp((n + 1) * length, tz=UTC),
                    finished_at=now,
                )
                for n in missed
            ],
            ignore_conflicts=True,
        )
        claimed = ScoringCycle.objects.filter(number__in=missed, weights__isnull=True)
        WeightSubmission.objects.bulk_create(
            WeightSubmission(cycle=c, status=WeightSubmission.Status.SKIPPED, reason=MISSED_REASON) for c in claimed
        )
    logger.warning("scoring: cycles %s–%s were not scored: %s", missed[0], missed[-1], MISSED_REASON)
    return [c.number for c in cycles]


def score_cycle_tick(*, current: int, length: float, pull: Callable[[], object]) -> ScoreSummary | None:
    """Scores the last completed cycle (`current` − 1, as validator.cycle.tick numbers them: the
    caller passes them, the two packages being siblings) if nobody has; None if nothing to do."""
    number = current - 1
    if number < 0 or ScoringCycle.objects.filter(number=number, finished_at__isnull=False).exists():
        return None
    missed_cycles_record(number=number, length=length)
    return score_cycle(number=number, length=length, pull=pull)
