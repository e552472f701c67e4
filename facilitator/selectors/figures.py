"""Reads for the dashboards and the overview: job figures per status, class and time bucket, and the
executors validators report (census, willingness)."""

import statistics
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    Sum,
)
from django.db.models.functions import Extract, Trunc

from facilitator.models import (
    ExecutorCensusReport,
    Job,
    ValidatorSession,
)
from protocol.aggregates import Percentile
from protocol.messages.common import FailureKind
from protocol.messages.jobs import JobStatus

if TYPE_CHECKING:
    pass

IN_FLIGHT = [JobStatus.DISPATCHED, JobStatus.RUNNING]


# The admin dashboard's figures, over jobs submitted since `since`.


def job_counts_by_status(*, since: datetime) -> list[tuple[str, int]]:
    """Most frequent first."""
    rows = Job.objects.filter(created_at__gte=since).values("status").annotate(n=Count("uuid")).order_by("-n")
    return [(row["status"], row["n"]) for row in rows]


def miner_executor_seconds(*, since: datetime, limit: int) -> list[tuple[str, float]]:
    """The `limit` miners with the most executor-seconds, most first."""
    rows = (
        Job.objects.filter(created_at__gte=since)
        .exclude(miner_hotkey="")
        .values("miner_hotkey")
        .annotate(s=Sum("executor_seconds"))
        .order_by(F("s").desc(nulls_last=True))[:limit]  # a miner with no seconds yet ranks last
    )
    return [(row["miner_hotkey"], row["s"] or 0) for row in rows]


def job_failure_counts(*, since: datetime) -> list[tuple[str, str, int]]:
    rows = (
        Job.objects.filter(created_at__gte=since)
        .exclude(failure_kind="")
        .values("failure_kind", "failure_reason")
        .annotate(n=Count("uuid"))
    )
    return [(row["failure_kind"], row["failure_reason"], row["n"]) for row in rows]


def job_median_seconds_per_class(*, since: datetime) -> list[tuple[str, float]]:
    """Median submit→finish time of finished jobs, per executor class, by class name."""
    rows = (
        Job.objects.filter(created_at__gte=since, finished_at__isnull=False)
        .annotate(took=F("finished_at") - F("created_at"))
        .values_list("executor_class", "took")
    )
    per_class: dict[str, list[float]] = {}
    for cls, took in rows:
        per_class.setdefault(cls, []).append(took.total_seconds())
    return [(cls, statistics.median(v)) for cls, v in sorted(per_class.items())]


def job_status_counts(*, since: datetime) -> dict[str, int]:
    """Jobs created since `since`, per status (for /metrics; the (status, created_at) index)."""
    rows = Job.objects.filter(created_at__gte=since).values_list("status").annotate(n=Count("pk")).order_by()
    return {status: n for status, n in rows}


# The network overview (facilitator/dashboard/overview.py): jobs per time bucket since `since`.


class JobBucket(TypedDict):
    at: datetime  # the bucket's start (UTC)
    jobs: int  # submitted in the bucket
    completed: int
    failed_job: int  # failed through the job's own fault (exit code, bad image, its timeout)
    failed_infrastructure: int  # failed through a miner's or validator's (retried, never billed)
    miners: int  # distinct miners that were given the bucket's jobs
    p50_s: float | None  # submit→finish time of the bucket's finished jobs
    p95_s: float | None


def job_buckets(*, since: datetime, step: Literal["hour", "day"]) -> list[JobBucket]:
    """Oldest first; buckets without jobs are absent."""
    took = ExpressionWrapper(Extract(F("finished_at") - F("created_at"), "epoch"), output_field=FloatField())
    finished = Q(finished_at__isnull=False)
    rows = (
        Job.objects.filter(created_at__gte=since)
        .annotate(at=Trunc("created_at", step))
        .values("at")
        .annotate(
            jobs=Count("uuid"),
            completed=Count("uuid", filter=Q(status=JobStatus.COMPLETED)),
            failed_job=Count("uuid", filter=Q(failure_kind=FailureKind.JOB)),
            failed_infrastructure=Count("uuid", filter=Q(failure_kind=FailureKind.INFRASTRUCTURE)),
            miners=Count("miner_hotkey", distinct=True, filter=~Q(miner_hotkey="")),
            p50_s=Percentile(took, fraction=0.5, filter=finished),
            p95_s=Percentile(took, fraction=0.95, filter=finished),
        )
        .order_by("at")
    )
    return [JobBucket(**row) for row in rows]  # type: ignore[typeddict-item]


def job_buckets_per_class(*, since: datetime, step: Literal["hour", "day"]) -> dict[str, dict[datetime, int]]:
    """Executor class → bucket start → jobs submitted for it."""
    rows = (
        Job.objects.filter(created_at__gte=since)
        .annotate(at=Trunc("created_at", step))
        .values("executor_class", "at")
        .annotate(n=Count("uuid"))
    )
    per_class: dict[str, dict[datetime, int]] = {}
    for row in rows:
        per_class.setdefault(row["executor_class"], {})[row["at"]] = row["n"]
    return per_class


def miners_serving(*, since: datetime) -> int:
    """Distinct miners that started a job since `since`: the miners the network is using now."""
    return Job.objects.filter(started_at__gte=since).exclude(miner_hotkey="").values("miner_hotkey").distinct().count()


# Executors verified vs claimed, as validators report them (`executor.census`). Several validators
# are combined per class by the highest figure any one of them reports: each verifies every miner
# on its own, so one that has not yet run a newcomer's benchmarks undercounts, never the reverse.


class ClassCensusFigures(TypedDict):
    miners: int
    claimed: int
    verified: int


def _combined(reports: list[list[dict[str, Any]]]) -> dict[str, ClassCensusFigures]:
    out: dict[str, ClassCensusFigures] = {}
    for classes in reports:
        for c in classes:
            now = out.setdefault(c["executor_class"], ClassCensusFigures(miners=0, claimed=0, verified=0))
            now["miners"] = max(now["miners"], int(c["miners"]))
            now["claimed"] = max(now["claimed"], int(c["claimed"]))
            now["verified"] = max(now["verified"], int(c["verified"]))
    return dict(sorted(out.items()))


def executor_census_latest() -> dict[str, ClassCensusFigures]:
    """Per class, the latest report of each connected validator, combined (highest figure)."""
    return _combined(_latest_live_reports())


def _latest_live_reports() -> list[list[dict[str, Any]]]:
    live = ValidatorSession.objects.filter(disconnected_at=None).values("hotkey")
    rows = (
        ExecutorCensusReport.objects.filter(validator_hotkey__in=live)
        .order_by("validator_hotkey", "-received_at", "-id")
        .distinct("validator_hotkey")
        .values_list("classes", flat=True)
    )
    return list(rows)


class WillingFigures(TypedDict):
    willing_miners: int
    willing_executors: int


def executor_classes_willing() -> dict[str, WillingFigures]:
    """Per class, the miners and verified executors willing at its current price (no floor above
    it, docs/market.md), combined like the census (highest figure); a class no connected validator
    reported willingness for is absent (unknown, not none)."""
    out: dict[str, WillingFigures] = {}
    for classes in _latest_live_reports():
        for c in classes:
            if c.get("willing_miners") is None or c.get("willing_executors") is None:
                continue  # a validator from before price floors
            now = out.setdefault(c["executor_class"], WillingFigures(willing_miners=0, willing_executors=0))
            now["willing_miners"] = max(now["willing_miners"], int(c["willing_miners"]))
            now["willing_executors"] = max(now["willing_executors"], int(c["willing_executors"]))
    return out


def executor_census_buckets(
    *, since: datetime, step: Literal["hour", "day"]
) -> dict[str, dict[datetime, ClassCensusFigures]]:
    """Class → bucket start → the figures of each validator's latest report in the bucket,
    combined (highest figure); buckets without reports are absent."""
    rows = (
        ExecutorCensusReport.objects.filter(received_at__gte=since)
        .annotate(at=Trunc("received_at", step))
        .order_by("at", "validator_hotkey", "-received_at", "-id")
        .distinct("at", "validator_hotkey")
        .values_list("at", "classes")
    )
    per_bucket: dict[datetime, list[list[dict[str, Any]]]] = {}
    for at, classes in rows:
        per_bucket.setdefault(at, []).append(classes)
    out: dict[str, dict[datetime, ClassCensusFigures]] = {}
    for at, reports in per_bucket.items():
        for executor_class, figures in _combined(reports).items():
            out.setdefault(executor_class, {})[at] = figures
    return dict(sorted(out.items()))
