"""The network overview's charts, drawn from the selectors' time buckets (facilitator/selectors/figures.py)."""

from datetime import datetime
from typing import Literal

from django.utils import timezone

from facilitator.selectors.figures import ClassCensusFigures, JobBucket
from protocol.charts import Window, bucket_starts, line_chart_svg, time_series, time_ticks, zero_filled


def _line(
    title: str,
    window: Window,
    series: dict[str, dict[datetime, float]],
    *,
    y_label: str,
    unit: str = "",
    y_max: float | None = None,
    counts: bool = True,
) -> str:
    """`counts`: a bucket without rows is a 0 (jobs, miners); else a gap (rates, latencies). A
    window without any rows stays "no data yet"."""
    if counts and any(series.values()):
        starts = bucket_starts(window, timezone.now())
        series = {label: zero_filled(values, starts) for label, values in series.items()}
    return line_chart_svg(
        title=f"{title} ({window.label})",
        series=[time_series(label, values) for label, values in series.items()],
        x_label=f"{window.step} (UTC)",
        y_label=y_label,
        unit=unit,
        y_max=y_max,
        x_format=time_ticks(window.step_s),
    )


def jobs_chart(buckets: list[JobBucket], window: Window) -> str:
    return _line(
        "Jobs submitted, completed and failed",
        window,
        {
            "submitted": {b["at"]: b["jobs"] for b in buckets},
            "completed": {b["at"]: b["completed"] for b in buckets},
            "failed": {b["at"]: b["failed_job"] + b["failed_infrastructure"] for b in buckets},
        },
        y_label="jobs",
    )


def failure_rate_chart(buckets: list[JobBucket], window: Window) -> str:
    """Failures as a share of the bucket's jobs, by whose fault: the job's or the infrastructure's."""
    return _line(
        "Failure rate by kind",
        window,
        {
            "job": {b["at"]: 100 * b["failed_job"] / b["jobs"] for b in buckets},
            "infrastructure": {b["at"]: 100 * b["failed_infrastructure"] / b["jobs"] for b in buckets},
        },
        y_label="of the jobs submitted (%)",
        unit=" %",
        y_max=100.0,
        counts=False,
    )


def latency_chart(buckets: list[JobBucket], window: Window) -> str:
    finished = [b for b in buckets if b["p50_s"] is not None]
    return _line(
        "Submit→finish time, p50 and p95",
        window,
        {
            "p50": {b["at"]: b["p50_s"] or 0.0 for b in finished},
            "p95": {b["at"]: b["p95_s"] or 0.0 for b in finished},
        },
        y_label="seconds",
        unit=" s",
        counts=False,
    )


def miners_chart(buckets: list[JobBucket], window: Window) -> str:
    return _line(
        "Miners given jobs",
        window,
        {"miners": {b["at"]: b["miners"] for b in buckets}},
        y_label="distinct miners",
    )


def classes_chart(per_class: dict[str, dict[datetime, int]], window: Window) -> str:
    return _line(
        "Jobs per executor class",
        window,
        {cls: {at: float(n) for at, n in values.items()} for cls, values in sorted(per_class.items())},
        y_label="jobs",
    )


CENSUS_FIGURES: tuple[Literal["verified", "claimed"], ...] = ("verified", "claimed")


def census_charts(per_class: dict[str, dict[datetime, ClassCensusFigures]], window: Window) -> list[str]:
    """Verified, then claimed: one line per class each (the legend's labels are short); a bucket
    without a report is a gap (no validator said anything then)."""
    return [
        _line(
            f"Executors {figure} per class (validators' reports)",
            window,
            {cls: {at: float(f[figure]) for at, f in buckets.items()} for cls, buckets in per_class.items()},
            y_label="executors",
            counts=False,
        )
        for figure in CENSUS_FIGURES
    ]
