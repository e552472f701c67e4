"""Cancelling: a pending job ends at once; a dispatched or running one is cancelled through its
validator, which reports `cancelled` when the container is gone."""

from django.db import transaction
from django.utils import timezone

from facilitator.models import Job
from facilitator.notify import send_to_validator_on_commit
from facilitator.selectors import validator_sessions_live
from facilitator.services.credits import credits_settle
from facilitator.services.events import job_record_event
from protocol.messages.facilitator import JobCancelRequest
from protocol.messages.jobs import TERMINAL_STATUSES, JobStatus


class JobAlreadyFinished(Exception):
    pass


def job_cancel(*, job: Job) -> Job:
    with transaction.atomic():
        job = Job.objects.select_for_update().get(uuid=job.uuid)
        if job.status in TERMINAL_STATUSES:
            raise JobAlreadyFinished(f"job is already {job.status}")
        if job.status == JobStatus.PENDING:
            job.status = JobStatus.CANCELLED
            job.finished_at = timezone.now()
            job.cost = credits_settle(job=job)
            job.save()
            job_record_event(job=job, status=JobStatus.CANCELLED, detail="cancelled by the user before dispatch")
            return job
        if job.cancel_requested_at is None:
            job.cancel_requested_at = timezone.now()
            job.save(update_fields=["cancel_requested_at"])
            job_record_event(job=job, status=JobStatus(job.status), detail="cancellation requested")
        for session in validator_sessions_live(hotkey=job.validator_hotkey):
            send_to_validator_on_commit(channel_name=session.channel_name, message=JobCancelRequest(job_uuid=job.uuid))
    return job
