"""Scores and weights, drawn: what this validator scored each cycle, what it put on chain, and how
far the other validators' revealed scores agree with its own."""

from datetime import timedelta

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from dht.selectors import dht_agreements_with
from protocol.charts import Bar, Series, bar_chart_svg, line_chart_svg
from protocol.identity import node_ss58_or_empty
from validator.selectors import pass_rate_by_benchmark
from validator.selectors.scores import CycleReport, cycle_report, scoring_cycles_finished

CYCLES = 24
TOP_MINERS = 10
ON_CHAIN = frozenset({"committed", "revealed", "set"})


def _short(hotkey: str) -> str:
    return hotkey[:12] + "…"


def _top(values: dict[str, float]) -> list[str]:
    return sorted(values, key=lambda hotkey: (-values[hotkey], hotkey))[:TOP_MINERS]


def score_chart(cycles: list[CycleReport]) -> str:
    """Score per cycle of the miners that score highest in the newest cycle."""
    newest = {m["hotkey"]: m["score"] for m in cycles[-1]["miners"]} if cycles else {}
    scores: dict[str, list[tuple[float, float]]] = {hotkey: [] for hotkey in _top(newest)}
    for c in cycles:
        for m in c["miners"]:
            if m["hotkey"] in scores:
                scores[m["hotkey"]].append((c["cycle"], m["score"]))
    return line_chart_svg(
        title=f"Score per miner, after coldkey grouping (last {CYCLES} cycles, top {TOP_MINERS} of the newest)",
        series=[Series(_short(hotkey), tuple(points)) for hotkey, points in scores.items()],
        x_label="scoring cycle",
        y_label="score (points)",
    )


def executors_chart(cycles: list[CycleReport]) -> str:
    totals: dict[str, tuple[int, int]] = {}
    for miner in cycles[-1]["miners"] if cycles else []:
        for c in miner["classes"]:
            claimed, verified = totals.get(c["executor_class"], (0, 0))
            totals[c["executor_class"]] = (claimed + c["claimed"], verified + c["verified"])
    number = f"cycle {cycles[-1]['cycle']}" if cycles else "newest cycle"
    return bar_chart_svg(
        title=f"Verified executors per class, all miners ({number}; claimed in brackets)",
        bars=[Bar(f"{name} ({claimed})", verified) for name, (claimed, verified) in sorted(totals.items())],
    )


def weights_chart(cycles: list[CycleReport]) -> str:
    """The weights submitted per cycle, per miner (as %); a cycle whose weights are not on chain
    (pending or skipped) is flagged with its status and reason."""
    # The newest weights made (the newest cycle's may still be pending, with none yet).
    newest = next((c["weights"]["values"] for c in reversed(cycles) if c["weights"]["values"]), {})
    series = [
        Series(_short(hotkey), tuple((c["cycle"], 100 * c["weights"]["values"].get(hotkey, 0.0)) for c in cycles))
        for hotkey in _top(newest)
    ]
    marks: dict[float, str] = {
        c["cycle"]: f"{c['weights']['status']} {c['weights']['reason']}".strip()
        for c in cycles
        if c["weights"]["status"] not in ON_CHAIN
    }
    return line_chart_svg(
        title=f"Weight per miner per tempo (last {CYCLES} cycles; × = not on chain)",
        series=series,
        x_label="scoring cycle (× : weights pending or skipped, hover for why)",
        y_label="weight (%)",
        unit=" %",
        marks=marks,
    )


def weight_status_chart(cycles: list[CycleReport]) -> str:
    counts: dict[str, int] = {}
    for c in cycles:
        counts[c["weights"]["status"]] = counts.get(c["weights"]["status"], 0) + 1
    return bar_chart_svg(
        title=f"Weight submissions by chain status (last {CYCLES} cycles)",
        bars=[Bar(status, n) for status, n in sorted(counts.items())],
        unit=" cycles",
    )


def agreement_chart(own: str) -> str:
    agreements = dht_agreements_with(holder=own, validator=own, epochs=CYCLES) if own else {}
    return line_chart_svg(
        title=f"Agreement of this validator's revealed scores with each other validator's, 100 % = the same"
        f" weights (last {CYCLES} epochs)",
        series=[Series(_short(other), tuple((e, 100 * a) for e, a in rows)) for other, rows in agreements.items()],
        x_label="DHT commit-reveal epoch",
        y_label="agreement (%)",
        unit=" %",
        y_max=100.0,
    )


@staff_member_required
def scores_dashboard(request: HttpRequest) -> HttpResponse:
    cycles = [cycle_report(c) for c in scoring_cycles_finished()[:CYCLES]][::-1]  # oldest first
    charts = [
        score_chart(cycles),
        weights_chart(cycles),
        weight_status_chart(cycles),
        executors_chart(cycles),
        bar_chart_svg(
            title="Pass rate per benchmark (24 h)",
            bars=[Bar(b, p) for b, p in pass_rate_by_benchmark(since=timezone.now() - timedelta(days=1))],
            unit=" %",
        ),
        agreement_chart(node_ss58_or_empty()),
    ]
    links = [("Verification charts", reverse("meshwork-verification")), ("Cycles API", "/api/v1/cycles/")]
    return render(
        request,
        "admin/meshwork_dashboard.html",
        {
            **admin.site.each_context(request),  # the theme's sidebar, header and site title
            "title": "Scores and weights of this validator",
            "charts": [mark_safe(c) for c in charts],  # noqa: S308 (the chart functions escape)
            "links": links,
        },
    )
