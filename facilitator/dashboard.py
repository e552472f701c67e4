"""The admin dashboard: the numbers people compare, drawn as charts."""

import statistics
from datetime import timedelta

from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count, F, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from facilitator.models import Job
from protocol.charts import Bar, bar_chart_svg

WINDOW = timedelta(days=1)


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - WINDOW
    jobs = Job.objects.filter(created_at__gte=since)
    by_status = [Bar(r["status"], r["n"]) for r in jobs.values("status").annotate(n=Count("uuid")).order_by("-n")]
    finished = jobs.exclude(miner_hotkey="").values("miner_hotkey")
    seconds = [
        Bar(r["miner_hotkey"][:12] + "…", r["s"] or 0)
        for r in finished.annotate(s=Sum("executor_seconds")).order_by("-s")[:15]
    ]
    failures = [
        Bar(f"{r['failure_kind']}: {r['failure_reason']}", r["n"])
        for r in jobs.exclude(failure_kind="").values("failure_kind", "failure_reason").annotate(n=Count("uuid"))
    ]
    charts = [
        bar_chart_svg(title="Jobs in the last 24 h, by status", bars=by_status),
        bar_chart_svg(title="Executor-seconds per miner (24 h)", bars=seconds, unit=" s"),
        bar_chart_svg(title="Median submit→finish time per executor class (24 h)", bars=_latency(jobs), unit=" s"),
        bar_chart_svg(title="Failures by kind and reason (24 h)", bars=failures),
    ]
    return render(
        request,
        "admin/meshwork_dashboard.html",
        {"title": "Meshwork dashboard", "charts": [mark_safe(c) for c in charts]},  # noqa: S308 (escaped)
    )


def _latency(jobs: QuerySet[Job]) -> list[Bar]:
    rows = (
        jobs.filter(finished_at__isnull=False)
        .annotate(took=F("finished_at") - F("created_at"))
        .values_list("executor_class", "took")
    )
    per_class: dict[str, list[float]] = {}
    for cls, took in rows:
        per_class.setdefault(cls, []).append(took.total_seconds())
    return [Bar(cls, statistics.median(v)) for cls, v in sorted(per_class.items())]
