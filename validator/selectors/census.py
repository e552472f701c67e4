"""The census this validator reports to the facilitator (`executor.census`): per class, what the
active miners claim and what this validator verified, the same figures as `GET /api/v1/miners/`."""

from django.db.models import QuerySet
from django.utils import timezone

from protocol.messages.facilitator import MAX_CENSUS_CLASSES, ClassCensus, ExecutorCensus
from validator.models import BenchmarkCycle
from validator.selectors import miner_report_list


def _finished_runs() -> "QuerySet[BenchmarkCycle]":
    return BenchmarkCycle.objects.filter(finished_at__isnull=False).order_by("-finished_at", "-id")


def benchmark_run_last_finished() -> int | None:
    """The id of this validator's newest finished benchmark run (cycle or newcomers), if any."""
    return (
        BenchmarkCycle.objects.filter(finished_at__isnull=False)
        .order_by("-finished_at", "-id")
        .values_list("id", flat=True)
        .first()
    )


def executor_census_build() -> ExecutorCensus | None:
    """None until a benchmark run finished: before that this validator verified nothing."""
    last = _finished_runs().first()
    if last is None:
        return None
    per_class: dict[str, dict[str, int]] = {}
    for report in miner_report_list():
        for cls in set(report["manifest"]) | set(report["verified"]):
            claimed, verified = report["manifest"].get(cls, 0), report["verified"].get(cls, 0)
            figures = per_class.setdefault(cls, {"miners": 0, "claimed": 0, "verified": 0})
            figures["miners"] += int(claimed > 0 or verified > 0)
            figures["claimed"] += claimed
            figures["verified"] += verified
    # Miners name the classes they claim: past the bound, the ones with most executors verified.
    ranked = sorted(per_class.items(), key=lambda item: (-item[1]["verified"], -item[1]["claimed"], item[0]))
    kept = sorted(ranked[:MAX_CENSUS_CLASSES], key=lambda item: item[0])
    classes = [ClassCensus(executor_class=cls, **figures) for cls, figures in kept]
    return ExecutorCensus(cycle=last.number, at=timezone.now(), classes=classes)
