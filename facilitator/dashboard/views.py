"""The admin dashboard: the numbers people compare, drawn as charts."""

from datetime import timedelta

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from facilitator.selectors import (
    job_counts_by_status,
    job_failure_counts,
    job_median_seconds_per_class,
    miner_executor_seconds,
)
from protocol.charts import Bar, bar_chart_svg

WINDOW = timedelta(days=1)
TOP_MINERS = 15


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - WINDOW
    by_status = [Bar(status, n) for status, n in job_counts_by_status(since=since)]
    seconds = [Bar(hotkey[:12] + "…", s) for hotkey, s in miner_executor_seconds(since=since, limit=TOP_MINERS)]
    failures = [Bar(f"{kind}: {reason}", n) for kind, reason, n in job_failure_counts(since=since)]
    latency = [Bar(cls, s) for cls, s in job_median_seconds_per_class(since=since)]
    charts = [
        bar_chart_svg(title="Jobs in the last 24 h, by status", bars=by_status),
        bar_chart_svg(title="Executor-seconds per miner (24 h)", bars=seconds, unit=" s"),
        bar_chart_svg(title="Median submit→finish time per executor class (24 h)", bars=latency, unit=" s"),
        bar_chart_svg(title="Failures by kind and reason (24 h)", bars=failures),
    ]
    return render(
        request,
        "admin/meshwork_dashboard.html",
        {"title": "Meshwork dashboard", "charts": [mark_safe(c) for c in charts]},  # noqa: S308 (escaped)
    )
