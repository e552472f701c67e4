"""The facilitator's network overview: the figures people compare, now and over time."""

from datetime import timedelta

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from chain.interface import Role
from chain.selectors import chain_neurons
from facilitator.dashboard.overview import (
    census_charts,
    classes_chart,
    failure_rate_chart,
    jobs_chart,
    latency_chart,
    miners_chart,
)
from facilitator.selectors import validator_sessions_live
from facilitator.selectors.figures import (
    executor_census_buckets,
    executor_census_latest,
    job_buckets,
    job_buckets_per_class,
    job_failure_counts,
    miner_executor_seconds,
    miners_serving,
)
from protocol.charts import WINDOWS, Bar, bar_chart_svg, window_parse

TOP_MINERS = 15
CENSUS_KPIS = 6  # executor classes shown as figures (all of them are in the charts)
ONLINE = timedelta(hours=1)  # a miner that started a job within the last hour counts as online


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} s"


def _census_kpis() -> list[dict[str, object]]:
    """One figure per class, "verified / claimed", from the connected validators' latest reports."""
    latest = executor_census_latest()
    if not latest:
        return [{"key": "executors", "label": "Executors verified / claimed", "value": "-",
                 "note": "no connected validator reported yet"}]  # fmt: skip
    # Miners name the classes they claim: the figures are for those with most executors verified.
    ranked = sorted(latest.items(), key=lambda item: (-item[1]["verified"], -item[1]["claimed"], item[0]))
    return [
        {"key": f"executors-{cls}", "label": f"{cls}: verified / claimed",
         "value": f"{f['verified']} / {f['claimed']}", "note": f"{f['miners']} miners; highest of the validators"}
        for cls, f in sorted(ranked[:CENSUS_KPIS], key=lambda item: item[0])
    ]  # fmt: skip


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    window = window_parse(request.GET.get("window"))
    now = timezone.now()
    since = now - window.span
    buckets = job_buckets(since=since, step=window.step)
    jobs = sum(b["jobs"] for b in buckets)
    failed = sum(b["failed_job"] + b["failed_infrastructure"] for b in buckets)
    newest = buckets[-1] if buckets else None
    kpis = [
        {"key": "miners-online", "label": "Miners online", "value": miners_serving(since=now - ONLINE),
         "note": "started a job in the last hour"},
        {"key": "miners-registered", "label": "Miners registered",
         "value": sum(1 for n in chain_neurons() if n.role == Role.MINER), "note": "on the synced metagraph"},
        {"key": "validators", "label": "Validators connected", "value": len(validator_sessions_live())},
        {"key": "jobs", "label": "Jobs", "value": jobs, "note": window.label},
        {"key": "failure-rate", "label": "Failure rate", "value": _percent(failed, jobs), "note": window.label},
        {"key": "latency", "label": "p50 / p95 (newest bucket)",
         "value": f"{_seconds(newest['p50_s'] if newest else None)} / {_seconds(newest['p95_s'] if newest else None)}"},
    ]  # fmt: skip
    kpis += _census_kpis()
    charts = [
        jobs_chart(buckets, window),
        failure_rate_chart(buckets, window),
        latency_chart(buckets, window),
        miners_chart(buckets, window),
        classes_chart(job_buckets_per_class(since=since, step=window.step), window),
        *census_charts(executor_census_buckets(since=since, step=window.step), window),
        bar_chart_svg(
            title=f"Executor-seconds per miner ({window.label.split(',')[0]})",
            bars=[Bar(h[:12] + "…", s) for h, s in miner_executor_seconds(since=since, limit=TOP_MINERS)],
            unit=" s",
        ),
        bar_chart_svg(
            title=f"Failures by kind and reason ({window.label.split(',')[0]})",
            bars=[Bar(f"{kind}: {reason}", n) for kind, reason, n in job_failure_counts(since=since)],
        ),
    ]
    return render(
        request,
        "admin/meshwork_dashboard.html",
        {
            **admin.site.each_context(request),  # the theme's sidebar, header and site title
            "title": "Network overview",
            "kpis": kpis,
            "charts": [mark_safe(c) for c in charts],  # noqa: S308 (the chart functions escape)
            "window": window.key,
            "window_choices": [(w.key, w.label) for w in WINDOWS.values()],
        },
    )
