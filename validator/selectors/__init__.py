"""Reads of the validator's tables: the miners a job may go to, updates owed upstream, billed work."""

import operator
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import reduce
from typing import TYPE_CHECKING, TypedDict
from uuid import UUID

from django.conf import settings
from django.db.models import Avg, Count, JSONField, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from dht.selectors import dht_miner_addresses, dht_routable_miners
from protocol.messages.common import FailureKind
from protocol.messages.jobs import JobStatus
from validator.models import (
    BenchmarkCheck,
    BenchmarkCycle,
    FacilitatorOutbox,
    Miner,
    MinerCycle,
    MinerManifest,
    OrganicJob,
    PowDifficulty,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

INCIDENT_WINDOW = timedelta(hours=1)
# Statuses whose executor time the miner is paid for: the job ran, whatever its own outcome.
BILLED_STATUSES = (JobStatus.COMPLETED, JobStatus.TIMEOUT, JobStatus.FAILED)


def miner_get_by_hotkey(*, hotkey: str) -> Miner | None:
    return Miner.objects.filter(hotkey=hotkey).first()


def miners_never_benchmarked(*, hotkeys: set[str]) -> set[str]:
    """Of these miners, those no run of this validator ever included: newcomers to benchmark now."""
    seen = set(MinerCycle.objects.filter(miner__hotkey__in=hotkeys).values_list("miner__hotkey", flat=True))
    return hotkeys - seen


def miners_with_a_pass(*, miner_ids: list[int]) -> set[int]:
    """Miners this validator saw pass a benchmark at least once (the others get newcomer deadlines)."""
    passed = BenchmarkCheck.objects.filter(miner_id__in=miner_ids, passed=True).exclude(benchmark="manifest")
    return set(passed.values_list("miner_id", flat=True).distinct())


def pow_difficulties(*, miner_ids: list[int]) -> dict[tuple[int, str], int]:
    rows = PowDifficulty.objects.filter(miner_id__in=miner_ids)
    return {(r.miner_id, r.executor_class): r.difficulty for r in rows}


def organic_jobs_running(*, miner_ids: list[int]) -> dict[int, int]:
    """This validator's organic jobs now on each miner: executors it knows are not free."""
    active = (JobStatus.DISPATCHED, JobStatus.RUNNING)
    rows = OrganicJob.objects.filter(miner_id__in=miner_ids, status__in=active).values("miner_id")
    return {r["miner_id"]: r["n"] for r in rows.annotate(n=Count("uuid"))}


class RecentIncidents(TypedDict):
    recent: int  # incidents within INCIDENT_WINDOW


def miners_for_job(*, exclude: set[str]) -> "list[WithAnnotations[Miner, RecentIncidents]]":
    """Miners registered on the chain and alive in the DHT (when DHT_ROUTE_REQUIRE_HEARTBEAT),
    with an address from the chain or else from their heartbeat; fewest recent incidents first,
    ties shuffled so load spreads."""
    since = timezone.now() - INCIDENT_WINDOW
    registered = list(
        Miner.objects.filter(is_active=True)
        .exclude(hotkey__in=exclude)
        .annotate(recent=Count("incidents", filter=Q(incidents__at__gte=since)))
    )
    routable = dht_routable_miners(m.hotkey for m in registered)
    announced = dht_miner_addresses()
    miners = []
    for miner in registered:
        miner.address = miner.address or announced.get(miner.hotkey, "")
        if miner.hotkey in routable and miner.address:
            miners.append(miner)
    random.shuffle(miners)
    return sorted(miners, key=lambda m: m.recent)


def organic_job_get(*, job_uuid: UUID) -> OrganicJob | None:
    return OrganicJob.objects.filter(uuid=job_uuid).first()


def organic_job_billed_seconds_by_miner(*, since: datetime) -> dict[str, float]:
    """Executor-seconds per miner hotkey of jobs that ended since `since` and are billed: completed,
    timed out, or failed by the job's own fault (an infrastructure failure is not the miner's work)."""
    billed = OrganicJob.objects.filter(updated_at__gte=since, miner__isnull=False, status__in=BILLED_STATUSES)
    billed = billed.exclude(status=JobStatus.FAILED, failure_kind=FailureKind.INFRASTRUCTURE)
    rows = billed.values("miner__hotkey").annotate(seconds=Sum("executor_seconds"))
    return {row["miner__hotkey"]: round(float(row["seconds"] or 0.0), 6) for row in rows}


def outbox_pending(*, limit: int = 100) -> list[FacilitatorOutbox]:
    """Updates not yet sent, oldest first: the order the facilitator must see them in."""
    return list(FacilitatorOutbox.objects.filter(sent_at=None).order_by("id")[:limit])


def outbox_last(*, job_uuid: UUID) -> FacilitatorOutbox | None:
    return FacilitatorOutbox.objects.filter(job_id=job_uuid).order_by("-id").first()


# --- the read-only API: what each miner claims and what this validator verified ----------------


class CheckReport(TypedDict):
    cycle: int
    benchmark: str
    executor: str
    executor_class: str
    passed: bool
    reason: str
    detail: str
    seconds: float | None


class MinerReport(TypedDict):
    hotkey: str
    coldkey: str
    manifest: dict[str, int]  # executors per class, as the latest manifest claims
    verified: dict[str, int]  # executors per class that passed everything in the last finished run
    last_checked_at: datetime | None


class ShareReport(TypedDict):
    entitled: int
    in_use: int
    total: int


class MinerDetailReport(MinerReport):
    checks: list[CheckReport]
    share: dict[str, ShareReport]  # per class, where we stand in the miner's stake split (docs/market.md)
    share_at: datetime | None


class CheckVerdict(TypedDict):
    executor: str
    executor_class: str
    benchmark: str
    passed: bool


EXECUTOR_BENCHMARKS = frozenset({BenchmarkCheck.Benchmark.POW, BenchmarkCheck.Benchmark.MATMUL})


def miner_report_list() -> list[MinerReport]:
    """Every active miner, by hotkey. Two queries, however many miners."""
    miners = list(_miners_reported(Miner.objects.filter(is_active=True).order_by("hotkey")))
    verdicts = _verdicts(miners)
    return [_report(miner, verdicts.get(miner.pk, [])) for miner in miners]


def miner_report_get(*, hotkey: str) -> MinerDetailReport | None:
    """One miner (active or not) with the checks of its last VALIDATOR_API_RECENT_CYCLES runs."""
    miner = _miners_reported(Miner.objects.filter(hotkey=hotkey)).first()
    if miner is None:
        return None
    report = _report(miner, _verdicts([miner]).get(miner.pk, []))
    recent_runs = (
        BenchmarkCheck.objects.filter(miner=miner)
        .order_by("-cycle_id")
        .values_list("cycle_id", flat=True)
        .distinct()[: settings.VALIDATOR_API_RECENT_CYCLES]
    )
    checks = (
        BenchmarkCheck.objects.filter(miner=miner, cycle_id__in=Subquery(recent_runs))
        .select_related("cycle")
        .order_by("-cycle_id", "executor", "benchmark")
    )
    listed = [
        CheckReport(
            cycle=check.cycle.number,
            benchmark=check.benchmark,
            executor=check.executor,
            executor_class=check.executor_class,
            passed=check.passed,
            reason=check.reason,
            detail=check.detail,
            seconds=check.seconds,
        )
        for check in checks
    ]
    return MinerDetailReport(**report, checks=listed, share=miner.share or {}, share_at=miner.share_at)


def verified_counts(*, verdicts: Sequence[CheckVerdict]) -> dict[str, int]:
    """Per class, the executors of one run whose checks are all passes, pow and matmul both there,
    on a host whose manifest check (if any) did not fail. Executor keys are "host/class/index".
    Every class checked in the run is listed, with 0 when none of its executors passed."""
    failed_hosts = {
        v["executor"] for v in verdicts if v["benchmark"] == BenchmarkCheck.Benchmark.MANIFEST and not v["passed"]
    }
    seen: dict[tuple[str, str], set[str]] = {}
    failed: set[tuple[str, str]] = set()
    for v in verdicts:
        if v["benchmark"] not in EXECUTOR_BENCHMARKS:
            continue
        key = (v["executor_class"], v["executor"])
        seen.setdefault(key, set()).add(v["benchmark"])
        if not v["passed"]:
            failed.add(key)
    counts: dict[str, int] = {}
    for (executor_class, executor), benchmarks in seen.items():
        ok = benchmarks == EXECUTOR_BENCHMARKS and (executor_class, executor) not in failed
        ok = ok and executor.rsplit("/", 2)[0] not in failed_hosts
        counts[executor_class] = counts.get(executor_class, 0) + int(ok)
    return dict(sorted(counts.items()))


def _miners_reported(miners: "QuerySet[Miner]") -> "QuerySet[Miner]":
    """Annotated with the latest manifest's totals, the latest check's time, and the run whose
    checks count as verified: the latest finished one in which the miner has checks."""
    manifest = MinerManifest.objects.filter(miner=OuterRef("pk")).order_by("-received_at", "-id")
    checks = BenchmarkCheck.objects.filter(miner=OuterRef("pk"))
    finished = checks.filter(cycle__finished_at__isnull=False).order_by("-cycle__finished_at", "-cycle_id")
    return miners.annotate(
        manifest_totals=Subquery(manifest.values("totals")[:1], output_field=JSONField()),
        last_checked_at=Subquery(checks.order_by("-created_at").values("created_at")[:1]),
        verified_cycle_id=Subquery(finished.values("cycle_id")[:1]),
    )


def _verdicts(miners: list[Miner]) -> dict[int, list[CheckVerdict]]:
    """Each miner's check outcomes in its verified run, in one query."""
    pairs = [Q(miner_id=m.pk, cycle_id=m.verified_cycle_id) for m in miners if m.verified_cycle_id is not None]  # type: ignore[attr-defined]
    if not pairs:
        return {}
    rows = BenchmarkCheck.objects.filter(reduce(operator.or_, pairs)).order_by()
    out: dict[int, list[CheckVerdict]] = {}
    for miner_id, executor, executor_class, benchmark, passed in rows.values_list(
        "miner_id", "executor", "executor_class", "benchmark", "passed"
    ):
        out.setdefault(miner_id, []).append(
            CheckVerdict(executor=executor, executor_class=executor_class, benchmark=benchmark, passed=passed)
        )
    return out


def _report(miner: Miner, verdicts: list[CheckVerdict]) -> MinerReport:
    return MinerReport(
        hotkey=miner.hotkey,
        coldkey=miner.coldkey,
        manifest=dict(miner.manifest_totals or {}),  # type: ignore[attr-defined]
        verified=verified_counts(verdicts=verdicts),
        last_checked_at=miner.last_checked_at,  # type: ignore[attr-defined]
    )


# --- the verification dashboard (validator/dashboard)


def checks_by_reason(*, since: datetime) -> list[tuple[str, int]]:
    """How the checks since `since` ended, most frequent first."""
    rows = BenchmarkCheck.objects.filter(created_at__gte=since).values("reason").annotate(n=Count("id"))
    return sorted(((r["reason"], r["n"]) for r in rows), key=lambda item: (-item[1], item[0]))


def pass_rate_by_benchmark(*, since: datetime) -> list[tuple[str, float]]:
    """Percent of checks passed per benchmark (the manifest check included) since `since`."""
    rows = (
        BenchmarkCheck.objects.filter(created_at__gte=since)
        .values("benchmark")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(passed=True)))
        .order_by("benchmark")
    )
    return [(r["benchmark"], round(100.0 * r["ok"] / r["n"], 1)) for r in rows if r["n"]]


def mean_efficiency_by_miner(*, since: datetime, limit: int) -> list[tuple[str, float]]:
    """Mean efficiency (reference / measured) of each miner's passed checks since `since`."""
    rows = (
        BenchmarkCheck.objects.filter(created_at__gte=since, passed=True, efficiency__isnull=False)
        .values("miner__hotkey")
        .annotate(mean=Avg("efficiency"))
        .order_by("-mean")[:limit]
    )
    return [(r["miner__hotkey"], round(float(r["mean"]), 3)) for r in rows]


def pass_rate_per_cycle(*, cycles: int) -> dict[str, list[tuple[int, float]]]:
    """Benchmark → (cycle number, percent of its checks passed) over the last `cycles` cycles run."""
    numbers = list(BenchmarkCycle.objects.order_by("-id").values_list("number", flat=True)[:cycles])
    rows = (
        BenchmarkCheck.objects.filter(cycle__number__in=numbers)
        .values("benchmark", "cycle__number")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(passed=True)))
    )
    per_benchmark: dict[str, list[tuple[int, float]]] = {}
    for r in rows:
        per_benchmark.setdefault(r["benchmark"], []).append((r["cycle__number"], 100.0 * r["ok"] / r["n"]))
    return {b: sorted(points) for b, points in sorted(per_benchmark.items())}


def miners_active_count() -> int:
    return Miner.objects.filter(is_active=True).count()
