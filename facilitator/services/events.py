"""A job's status history: one append-only row per transition, heard by whoever waits on the job.
Below every other job service, so all of them record events the same way."""

from facilitator.models import Job, JobStatusEvent
from facilitator.notify import notify_job_watchers_on_commit
from protocol.messages.jobs import JobStatus
from protocol.text import text_for_postgres

MAX_DETAIL_CHARS = 4000


def job_record_event(*, job: Job, status: JobStatus, detail: str = "") -> JobStatusEvent:
    """Every transition is a row; whoever waits on the job hears of it once the row is committed."""
    # A validator relays whatever a container printed.
    event = JobStatusEvent.objects.create(job=job, status=status, detail=text_for_postgres(detail[:MAX_DETAIL_CHARS]))
    notify_job_watchers_on_commit(job_uuid=job.uuid, status=status)
    return event
