from typing import Any
from uuid import UUID

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from facilitator.models import Job, JobOutput, JobStatusEvent


def job_list(*, user: Any, filters: dict[str, str] | None = None) -> QuerySet[Job]:
    filters = filters or {}
    qs = (
        Job.objects.filter(user=user)
        .annotate(has_output=Exists(JobOutput.objects.filter(job=OuterRef("pk"))))
        .prefetch_related(Prefetch("history", queryset=JobStatusEvent.objects.order_by("at", "id")))
        .defer("input")
        .order_by("-created_at")
    )
    if "status" in filters:
        qs = qs.filter(status=filters["status"])
    if "tag" in filters:
        qs = qs.filter(tag=filters["tag"])
    return qs


def job_get(*, user: Any, job_uuid: UUID) -> Job | None:
    return job_list(user=user).filter(uuid=job_uuid).first()


def job_output_get(*, user: Any, job_uuid: UUID) -> JobOutput | None:
    return JobOutput.objects.filter(job__user=user, job__uuid=job_uuid).first()
