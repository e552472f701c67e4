"""Jobs whose validator vanished: unstarted ones go back to the queue, started ones fail as
infrastructure once they are past any deadline (the user is not charged).

The lease runs from the later of the job's dispatch and the validator's last disconnect: a
validator that is only reconnecting (its own restart, or this facilitator's, which closes every
session) gets the whole lease to come back and resume its jobs before they are handed to
another validator behind its back."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from facilitator.models import Job
from facilitator.selectors import validator_is_live, validator_last_disconnected_at
from facilitator.services.cancel import job_cancel
from facilitator.services.credits import credits_settle
from facilitator.services.events import job_record_event
from protocol.messages.common import FailureKind, FailureReason
from protocol.messages.jobs import JobStatus


def jobs_expire_stale() -> int:
    now = timezone.now()
    stale_after = timedelta(seconds=settings.FACILITATOR_DISPATCH_STALE_S)
    changed = 0
    candidates = Job.objects.filter(status__in=[JobStatus.DISPATCHED, JobStatus.RUNNING]).only(
        "uuid", "validator_hotkey", "dispatched_at", "timeout_s", "started_at", "cancel_requested_at"
    )
    for job in candidates:
        if validator_is_live(hotkey=job.validator_hotkey) or job.dispatched_at is None:
            continue
        gone = validator_last_disconnected_at(hotkey=job.validator_hotkey)
        since = job.dispatched_at if gone is None else max(job.dispatched_at, gone)
        deadline = max(job.dispatched_at + timedelta(seconds=job.timeout_s), since) + 2 * stale_after
        if job.started_at is None and since + stale_after < now:
            with transaction.atomic():
                requeued = Job.objects.filter(uuid=job.uuid, status=JobStatus.DISPATCHED, started_at=None).update(
                    status=JobStatus.PENDING, validator_hotkey="", dispatched_at=None
                )
                if requeued:
                    job_record_event(job=job, status=JobStatus.PENDING, detail="validator lost before start; requeued")
                    if job.cancel_requested_at is not None:
                        job_cancel(job=job)  # the user cancelled it: end it, never run it again
            changed += requeued
        elif deadline < now:
            changed += _fail_lost(job)
    return changed


def _fail_lost(job: Job) -> int:
    with transaction.atomic():
        job = Job.objects.select_for_update().get(uuid=job.uuid)
        if job.status not in (JobStatus.DISPATCHED, JobStatus.RUNNING):
            return 0
        job.status = JobStatus.FAILED
        job.failure_kind = FailureKind.INFRASTRUCTURE
        job.failure_reason = FailureReason.VALIDATOR_LOST
        job.failure_detail = f"validator {job.validator_hotkey} disconnected and never reported back"
        job.finished_at = timezone.now()
        job.cost = credits_settle(job=job)
        job.save()
        job_record_event(job=job, status=JobStatus.FAILED, detail=job.failure_detail)
    return 1
