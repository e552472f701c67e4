"""Builders for the facilitator's models."""

from typing import Any

from tests.factories import job_spec


def facilitator_job(*, user: Any, status: str = "dispatched", validator_hotkey: str = "5Validator", **spec: Any) -> Any:
    """A job created through the real service (credits held), then moved to `status` as if a
    validator had taken it."""
    from django.utils import timezone

    from facilitator.models import Job
    from facilitator.services.jobs import job_create

    job = job_create(user=user, spec=job_spec(**spec))
    if status != "pending":
        Job.objects.filter(uuid=job.uuid).update(
            status=status, validator_hotkey=validator_hotkey, dispatched_at=timezone.now()
        )
    job.refresh_from_db()
    return job
