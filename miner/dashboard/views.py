"""The miner's overview: its executors now, and its jobs, receipts and earnings over time.

Earnings are what the miner's receipts say it is credited with: the executor-seconds of its
`job_finished` receipts both sides signed (what validators score it by), and, for organic jobs,
those seconds at its executor class's catalogue price (what the users were billed for its work).
What the subnet pays out is decided by the validators' weights on chain, not shown here."""

from datetime import datetime
from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from executor.selectors import executor_class_list
from miner.selectors import (
    CreditedSeconds,
    accepted_job_buckets,
    credited_seconds,
    executors_per_class,
    receipt_buckets,
)
from protocol.charts import (
    WINDOWS,
    Bar,
    Window,
    bar_chart_svg,
    bucket_starts,
    line_chart_svg,
    time_series,
    time_ticks,
    window_parse,
    zero_filled,
)


def _line(title: str, window: Window, series: dict[str, dict[datetime, float]], *, y_label: str, unit: str = "") -> str:
    # Every series here counts: a quiet bucket is a 0 (a window without any rows: "no data yet").
    starts = bucket_starts(window, timezone.now()) if any(series.values()) else []
    return line_chart_svg(
        title=f"{title} ({window.label})",
        series=[time_series(label, zero_filled(values, starts)) for label, values in sorted(series.items())],
        x_label=f"{window.step} (UTC)",
        y_label=y_label,
        unit=unit,
        x_format=time_ticks(window.step_s),
    )


def _as_float(per_key: dict[str, dict[datetime, int]]) -> dict[str, dict[datetime, float]]:
    return {key: {at: float(n) for at, n in values.items()} for key, values in per_key.items()}


def earnings(rows: list[CreditedSeconds], prices: dict[str, Decimal]) -> dict[datetime, float]:
    """Organic credited seconds × the class's price, per bucket."""
    value: dict[datetime, float] = {}
    for r in rows:
        if r["job_kind"] == "organic":
            value[r["at"]] = value.get(r["at"], 0.0) + r["seconds"] * float(prices.get(r["executor_class"], 0))
    return value


@staff_member_required
def miner_dashboard(request: HttpRequest) -> HttpResponse:
    window = window_parse(request.GET.get("window"))
    since = timezone.now() - window.span
    executors = executors_per_class()
    jobs = accepted_job_buckets(since=since, step=window.step)
    credited = credited_seconds(since=since, step=window.step)
    prices = {c.name: c.price_per_second for c in executor_class_list(active_only=False)}
    seconds: dict[str, dict[datetime, float]] = {}
    for r in credited:
        per_bucket = seconds.setdefault(r["job_kind"], {})
        per_bucket[r["at"]] = per_bucket.get(r["at"], 0.0) + r["seconds"]
    value = earnings(credited, prices)
    kpis = [
        {"key": "executors", "label": "Executors", "value": sum(t for t, _ in executors.values())},
        {"key": "busy", "label": "Busy now", "value": sum(b for _, b in executors.values())},
        {"key": "jobs", "label": "Jobs accepted", "value": sum(sum(v.values()) for v in jobs.values()),
         "note": window.label},
        {"key": "credited-seconds", "label": "Credited executor-seconds",
         "value": f"{sum(r['seconds'] for r in credited):,.1f}", "note": "job_finished receipts, both signed"},
        {"key": "earnings", "label": "Earned (organic, at list price)", "value": f"{sum(value.values()):,.4f}",
         "note": "credits"},
    ]  # fmt: skip
    charts = [
        bar_chart_svg(
            title="Executors per class (busy now in brackets)",
            bars=[Bar(f"{cls} ({busy} busy)", total) for cls, (total, busy) in sorted(executors.items())],
        ),
        _line("Jobs accepted, by status now", window, _as_float(jobs), y_label="jobs"),
        _line("Receipts served, by kind", window, _as_float(receipt_buckets(since=since, step=window.step)),
              y_label="receipts"),
        _line("Credited executor-seconds, by job kind", window, seconds, y_label="executor-seconds", unit=" s"),
        _line("Earned from organic jobs at list price", window, {"credits": value}, y_label="credits"),
    ]  # fmt: skip
    return render(
        request,
        "admin/meshwork_dashboard.html",
        {
            **admin.site.each_context(request),  # the theme's sidebar, header and site title
            "title": "Miner overview",
            "kpis": kpis,
            "charts": [mark_safe(c) for c in charts],  # noqa: S308 (the chart functions escape)
            "window": window.key,
            "window_choices": [(w.key, w.label) for w in WINDOWS.values()],
        },
    )
