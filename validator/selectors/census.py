"""The census this validator reports to the facilitator (`executor.census`): per class, what the
active miners claim and what this validator verified, the same figures as `GET /api/v1/miners/`;
and of those, the miners (and their verified executors) willing at the class's current price:
no floor in their latest manifest above it (docs/market.md)."""

from decimal import Decimal

from django.db.models import JSONField, OuterRef, QuerySet, Subquery
from django.utils import timezone

from executor.selectors import executor_class_list
from protocol.messages.facilitator import MAX_CENSUS_CLASSES, ClassCensus, ExecutorCensus
from validator.models import BenchmarkCycle, Miner, MinerManifest
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
    prices = dict(executor_class_list().values_list("name", "price_per_second"))
    floors = _price_floors()
    per_class: dict[str, dict[str, int]] = {}
    for report in miner_report_list():
        for cls in set(report["manifest"]) | set(report["verified"]):
            claimed, verified = report["manifest"].get(cls, 0), report["verified"].get(cls, 0)
            present = claimed > 0 or verified > 0
            figures = per_class.setdefault(cls, {"miners": 0, "claimed": 0, "verified": 0})
            figures["miners"] += int(present)
            figures["claimed"] += claimed
            figures["verified"] += verified
            if cls in prices:  # a class we do not price: nobody can say who is willing
                floor = floors.get(report["hotkey"], {}).get(cls)
                willing = floor is None or Decimal(floor) <= prices[cls]
                figures["willing_miners"] = figures.get("willing_miners", 0) + int(willing and present)
                figures["willing_executors"] = figures.get("willing_executors", 0) + (verified if willing else 0)
    # Miners name the classes they claim: past the bound, the ones with most executors verified.
    ranked = sorted(per_class.items(), key=lambda item: (-item[1]["verified"], -item[1]["claimed"], item[0]))
    kept = sorted(ranked[:MAX_CENSUS_CLASSES], key=lambda item: item[0])
    classes = [ClassCensus(executor_class=cls, **figures) for cls, figures in kept]
    return ExecutorCensus(cycle=last.number, at=timezone.now(), classes=classes)


def _price_floors() -> dict[str, dict[str, str]]:
    """Miner hotkey → its latest manifest's price floors (class → decimal text), active miners only."""
    latest = MinerManifest.objects.filter(miner=OuterRef("pk")).order_by("-received_at", "-id")
    rows = Miner.objects.filter(is_active=True).annotate(
        payload=Subquery(latest.values("payload")[:1], output_field=JSONField())
    )
    return {
        hotkey: dict((payload or {}).get("price_floors") or {})
        for hotkey, payload in rows.values_list("hotkey", "payload")
    }
