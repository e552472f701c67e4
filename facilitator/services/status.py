"""Applying validators' status reports. Idempotent: a report for a finished job, a duplicate, or
one from a validator the job was not sent to changes nothing."""

import base64
import binascii
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from facilitator.models import Job, JobOutput
from facilitator.selectors import job_last_event
from facilitator.services.credits import credits_refund_attempts, credits_settle
from facilitator.services.events import job_record_event
from protocol.messages.common import MAX_RENTAL_SECONDS
from protocol.messages.facilitator import JobStatusUpdate
from protocol.messages.jobs import TERMINAL_STATUSES, JobStatus
from protocol.text import text_for_postgres

logger = logging.getLogger(__name__)

# The edges a validator may move a job along. RUNNING → DISPATCHED is a retry: the miner failed
# and the job waits for another one.
ALLOWED = {
    JobStatus.DISPATCHED: {JobStatus.DISPATCHED, JobStatus.RUNNING, *TERMINAL_STATUSES},
    JobStatus.RUNNING: {JobStatus.RUNNING, JobStatus.DISPATCHED, *TERMINAL_STATUSES},
}


class StatusUpdateRefused(Exception):
    """The report is refused as a whole (nothing of it is applied); the message says why."""


def job_apply_status_update(*, validator_hotkey: str, update: JobStatusUpdate) -> bool:
    """Returns True when the update changed the job; raises StatusUpdateRefused for a report no
    job could have produced."""
    seconds = update.result.executor_seconds if update.result is not None else 0.0
    if not seconds <= settings.MAX_EXECUTOR_SECONDS + MAX_RENTAL_SECONDS:  # also refuses NaN
        raise StatusUpdateRefused(
            f"result.executor_seconds {seconds} exceeds MAX_EXECUTOR_SECONDS ({settings.MAX_EXECUTOR_SECONDS})"
            " and any rental's 60 days"
        )
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(uuid=update.job_uuid).first()
        if job is None or job.validator_hotkey != validator_hotkey:
            logger.warning("ignoring update for %s from %s: not its job", update.job_uuid, validator_hotkey)
            return False
        # A rental runs its duration; MAX_EXECUTOR_SECONDS is the margin on top (a job's is all of it).
        limit = settings.MAX_EXECUTOR_SECONDS + (job.timeout_s if job.kind == Job.Kind.RENTAL else 0)
        if seconds > limit:
            raise StatusUpdateRefused(
                f"result.executor_seconds {seconds} exceeds MAX_EXECUTOR_SECONDS ({limit} s for this {job.kind})"
            )
        current = JobStatus(job.status)
        if update.status not in ALLOWED.get(current, set()):
            logger.info("ignoring %s → %s for %s", current, update.status, job.uuid)
            return False
        if update.status == current and _same_as_last(job, update):
            return False
        _apply(job, update)
        job_record_event(job=job, status=update.status, detail=update.detail)
    return True


def _same_as_last(job: Job, update: JobStatusUpdate) -> bool:
    last = job_last_event(job=job)
    return last is not None and last.status == update.status and last.detail == text_for_postgres(update.detail)


def _apply(job: Job, update: JobStatusUpdate) -> None:
    now = timezone.now()
    job.status = update.status
    if update.miner_hotkey:
        job.miner_hotkey = text_for_postgres(update.miner_hotkey)
    if update.status == JobStatus.RUNNING and job.started_at is None:
        job.started_at = now
    if update.status == JobStatus.RUNNING and update.ssh is not None and job.kind == Job.Kind.RENTAL:
        job.ssh_host, job.ssh_port = text_for_postgres(update.ssh.host), update.ssh.port
        job.ssh_user = text_for_postgres(update.ssh.user)
    if update.status == JobStatus.DISPATCHED:
        job.started_at = None  # the next attempt has not started yet
        job.ssh_host, job.ssh_port, job.ssh_user = "", None, ""  # nor has its machine
        credits_refund_attempts(job=job)  # the attempt died of an infrastructure failure: not the user's cost
    if update.result is not None:
        job.exit_code = update.result.exit_code
        job.stdout = text_for_postgres(update.result.stdout)
        job.stderr = text_for_postgres(update.result.stderr)
        job.stdout_bytes, job.stderr_bytes = update.result.stdout_bytes, update.result.stderr_bytes
        job.stdout_truncated, job.stderr_truncated = update.result.stdout_truncated, update.result.stderr_truncated
        job.executor_seconds = update.result.executor_seconds
        if update.result.executor_seconds > 0 and job.started_at is None:
            job.started_at = now
        _store_output(job, update.result.output_zip_b64)
    if update.failure is not None:
        job.failure_kind = update.failure.kind
        job.failure_reason = text_for_postgres(update.failure.reason)
        job.failure_detail = text_for_postgres(update.failure.detail)
    if update.status in TERMINAL_STATUSES:
        job.finished_at = now
        job.cost = credits_settle(job=job)
    job.save()


def _store_output(job: Job, zip_b64: str) -> None:
    if not zip_b64:
        return
    try:
        data = base64.b64decode(zip_b64, validate=True)
    except (binascii.Error, ValueError):
        logger.warning("job %s: output is not base64; dropped", job.uuid)
        return
    JobOutput.objects.update_or_create(job=job, defaults={"zip_bytes": data, "size": len(data)})
