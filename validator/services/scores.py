"""The scores a validator commits and reveals over the DHT (DHT_SCORES_PROVIDER): those of its
latest scored cycle (validator/scoring/), so validators compare the very numbers their weights are
made of. The DHT epoch only says when to commit; the cycle is whichever finished last."""

from validator.models import MinerScore, ScoringCycle


def cycle_scores(epoch: int) -> dict[str, float] | None:
    """{hotkey: score} of the latest finished scoring cycle, miners above 0 only; None when no
    cycle is scored yet (nothing to commit)."""
    cycle = ScoringCycle.objects.filter(finished_at__isnull=False).order_by("-number").first()
    if cycle is None:
        return None
    rows = MinerScore.objects.filter(cycle=cycle, score__gt=0).order_by("hotkey").values_list("hotkey", "score")
    return dict(rows)
