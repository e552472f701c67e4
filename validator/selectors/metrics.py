"""Reads behind the validator's /metrics: its organic jobs per status and its benchmark checks."""

from datetime import datetime

from django.db.models import Count

from validator.models import BenchmarkCheck, OrganicJob


def organic_job_status_counts(*, since: datetime) -> dict[str, int]:
    rows = OrganicJob.objects.filter(created_at__gte=since).values_list("status").annotate(n=Count("pk")).order_by()
    return {status: n for status, n in rows}


def benchmark_check_counts(*, since: datetime) -> dict[bool, int]:
    """Checks run since `since`, by whether they passed."""
    rows = BenchmarkCheck.objects.filter(created_at__gte=since).values_list("passed").annotate(n=Count("pk")).order_by()
    return {passed: n for passed, n in rows}
