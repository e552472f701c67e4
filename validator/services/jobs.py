"""Organic jobs on the validator: every change is an event row plus an outbox row for the
facilitator, written in one transaction so neither is lost without the other."""

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from protocol.messages.common import Failure, JobResult, JobSpec
from protocol.messages.facilitator import JobStatusUpdate
from protocol.messages.jobs import TERMINAL_STATUSES, JobStatus, SshEndpoint
from protocol.reports import ReportTooLarge, result_fit
from protocol.text import text_for_postgres
from validator.models import FacilitatorOutbox, OrganicJob, OrganicJobEvent
from validator.selectors import miner_get_by_hotkey, organic_job_get, outbox_last
from validator.services.own_receipts import billed_seconds


def organic_job_receive(*, job_uuid: UUID, spec: JobSpec) -> tuple[OrganicJob, bool]:
    return OrganicJob.objects.get_or_create(uuid=job_uuid, defaults={"spec": spec.model_dump(mode="json")})


def organic_job_record(
    *,
    job_uuid: UUID,
    status: JobStatus,
    detail: str = "",
    miner_hotkey: str = "",
    result: JobResult | None = None,
    observed_seconds: float = 0.0,
    failure: Failure | None = None,
    ssh: SshEndpoint | None = None,
) -> bool:
    """False (and nothing written) if the job already ended: a late report changes nothing.
    `ssh`: a rental's login, forwarded with its RUNNING status.

    With a result, `observed_seconds` is how long the validator saw the job run (JobStarted to the
    end; 0 if it never saw it start). The miner is paid, scored and the user billed for
    min(reported, observed), and that capped figure is what goes upstream."""
    # Containers may print NUL bytes; Postgres text and jsonb cannot hold them.
    detail, miner_hotkey = text_for_postgres(detail), text_for_postgres(miner_hotkey)
    if result is not None:
        reported, observed = result.executor_seconds, round(max(observed_seconds, 0.0), 6)
        cleaned = {
            "stdout": text_for_postgres(result.stdout),
            "stderr": text_for_postgres(result.stderr),
            # The same figure the job_finished receipt carries (validator/miner_session.py).
            "executor_seconds": billed_seconds(result=result, observed_seconds=observed_seconds),
        }
        result = _fitted(result.model_copy(update=cleaned))
    if failure is not None:
        texts = {"reason": text_for_postgres(failure.reason), "detail": text_for_postgres(failure.detail)}
        failure = failure.model_copy(update=texts)
    with transaction.atomic():
        job = OrganicJob.objects.select_for_update().get(uuid=job_uuid)
        if job.status in TERMINAL_STATUSES:
            return False
        job.status = status
        if miner_hotkey:
            job.miner = miner_get_by_hotkey(hotkey=miner_hotkey)
        if result is not None:
            job.exit_code = result.exit_code
            job.executor_seconds = result.executor_seconds
            job.reported_seconds, job.observed_seconds = reported, observed
        if failure is not None:
            job.failure_kind, job.failure_reason = failure.kind, failure.reason
        job.save()
        OrganicJobEvent.objects.create(job=job, status=status, miner_hotkey=miner_hotkey, detail=detail[:4000])
        update = JobStatusUpdate(
            job_uuid=job_uuid,
            status=status,
            detail=detail[:4000],
            miner_hotkey=miner_hotkey or None,
            result=result,
            failure=failure,
            ssh=ssh,
        )
        FacilitatorOutbox.objects.create(job=job, payload=update.model_dump(mode="json"))
    return True


def _fitted(result: JobResult) -> JobResult:
    """The facilitator hop has the same frame limit as the miner's: cut the logs if need be. Only a
    miner breaking its executor's zip limit sends a zip that cannot fit: that zip is dropped."""
    try:
        return result_fit(result)
    except ReportTooLarge:
        return result_fit(result.model_copy(update={"output_zip_b64": ""}))


def organic_job_attempt(*, job_uuid: UUID) -> int:
    with transaction.atomic():
        job = OrganicJob.objects.select_for_update().get(uuid=job_uuid)
        job.attempts += 1
        job.save(update_fields=["attempts", "updated_at"])
    return job.attempts


def organic_job_resume(*, job_uuid: UUID) -> bool:
    """A job this validator had sent to a miner, asked for again while no driver of this process
    holds it: the process that drove it died (a miner cancels a dead validator's jobs). The lost
    run counts as an infrastructure attempt, reported upstream as a retry (so the facilitator
    refunds its interval charges and forgets its start), and the next run charges under a new
    attempt number. False for a job no miner had yet, or one that ended: nothing to close."""
    with transaction.atomic():
        job = OrganicJob.objects.select_for_update().get(uuid=job_uuid)
        if job.status in TERMINAL_STATUSES or (job.miner is None and job.status != JobStatus.RUNNING):
            return False
        job.attempts += 1
        job.save(update_fields=["attempts", "updated_at"])
        miner = job.miner.hotkey if job.miner is not None else ""
        return organic_job_record(
            job_uuid=job_uuid,
            status=JobStatus.DISPATCHED,
            detail=f"infrastructure failure: the validator restarted while miner {miner or '?'} had the job;"
            " trying another miner",
            miner_hotkey=miner,
        )


def organic_job_request_cancel(*, job_uuid: UUID) -> OrganicJob | None:
    updated = OrganicJob.objects.filter(uuid=job_uuid).update(cancel_requested=True, updated_at=timezone.now())
    return organic_job_get(job_uuid=job_uuid) if updated else None


def organic_job_resend_last(*, job_uuid: UUID) -> bool:
    """The facilitator asked for a job we consider finished: its final report was lost upstream."""
    last = outbox_last(job_uuid=job_uuid)
    if last is None:
        return False
    FacilitatorOutbox.objects.filter(pk=last.pk).update(sent_at=None)
    return True


def outbox_mark_sent(*, ids: list[int]) -> None:
    FacilitatorOutbox.objects.filter(id__in=ids, sent_at=None).update(sent_at=timezone.now())
