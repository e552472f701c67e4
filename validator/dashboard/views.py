"""What this validator verified, drawn: the numbers an operator compares across miners."""

from datetime import timedelta

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from protocol.charts import Bar, Series, bar_chart_svg, line_chart_svg
from validator.selectors import (
    checks_by_reason,
    mean_efficiency_by_miner,
    miner_report_list,
    miners_active_count,
    pass_rate_by_benchmark,
    pass_rate_per_cycle,
)

WINDOW = timedelta(days=1)
TOP_MINERS = 20
CYCLES = 24


def _short(hotkey: str) -> str:
    return hotkey[:12] + "…"


@staff_member_required
def verification_dashboard(request: HttpRequest) -> HttpResponse:
    since = timezone.now() - WINDOW
    reports = miner_report_list()[:TOP_MINERS]
    claimed = [Bar(_short(r["hotkey"]), sum(r["manifest"].values())) for r in reports]
    verified = [Bar(_short(r["hotkey"]), sum(r["verified"].values())) for r in reports]
    per_cycle = pass_rate_per_cycle(cycles=CYCLES)
    kpis = [
        {"key": "miners", "label": "Miners active", "value": miners_active_count(), "note": "on the synced metagraph"},
        {"key": "claimed", "label": "Executors claimed", "value": int(sum(b.value for b in claimed))},
        {
            "key": "verified",
            "label": "Executors verified",
            "value": int(sum(b.value for b in verified)),
            "note": "latest run",
        },
    ]
    charts = [
        line_chart_svg(
            title=f"Pass rate per benchmark, per cycle (last {CYCLES} cycles)",
            series=[Series(b, tuple((float(n), rate) for n, rate in points)) for b, points in per_cycle.items()],
            x_label="benchmark cycle",
            y_label="checks passed (%)",
            unit=" %",
            y_max=100.0,
        ),
        bar_chart_svg(title="Verified executors per miner (latest run)", bars=verified),
        bar_chart_svg(title="Executors claimed in the manifest per miner", bars=claimed),
        bar_chart_svg(
            title="Pass rate per benchmark (24 h)",
            bars=[Bar(b, p) for b, p in pass_rate_by_benchmark(since=since)],
            unit=" %",
        ),
        bar_chart_svg(
            title="Checks by reason (24 h)", bars=[Bar(reason, n) for reason, n in checks_by_reason(since=since)]
        ),
        bar_chart_svg(
            title="Mean efficiency per miner (reference / measured, 24 h)",
            bars=[Bar(_short(h), e) for h, e in mean_efficiency_by_miner(since=since, limit=TOP_MINERS)],
        ),
    ]
    return render(
        request,
        "admin/meshwork_dashboard.html",
        {
            **admin.site.each_context(request),  # the theme's sidebar, header and site title
            "title": "What this validator verified",
            "kpis": kpis,
            "charts": [mark_safe(c) for c in charts],  # noqa: S308 (escaped)
            "links": [("Scores and weights", reverse("meshwork-scores"))],
        },
    )
