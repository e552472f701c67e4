"""Handing pending jobs to connected validators. A job is claimed by a conditional update
(pending → dispatched), so concurrent dispatchers never send one job twice."""

import logging
import random
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from facilitator.models import Job, ValidatorSession
from facilitator.notify import send_to_validator_on_commit
from facilitator.selectors import (
    jobs_held_by_validator,
    jobs_in_flight_per_validator,
    jobs_pending_uuids,
    validator_sessions_live,
)
from facilitator.services.events import job_record_event
from facilitator.services.specs import job_spec
from protocol.logs import bind_job
from protocol.messages.facilitator import JobCancelRequest, JobRequest
from protocol.messages.jobs import JobStatus

logger = logging.getLogger(__name__)


def job_dispatch_on_commit(*, job_uuid: UUID) -> None:
    transaction.on_commit(lambda: job_dispatch(job_uuid=job_uuid))


def _pick_session() -> ValidatorSession | None:
    """The live validator with the fewest jobs in flight (random among equals)."""
    live = validator_sessions_live()
    if not live:
        return None
    load = jobs_in_flight_per_validator()
    random.shuffle(live)
    return min(live, key=lambda s: load.get(s.hotkey, 0))


def job_dispatch(*, job_uuid: UUID) -> bool:
    with bind_job(job_uuid):
        return _job_dispatch(job_uuid=job_uuid)


def _job_dispatch(*, job_uuid: UUID) -> bool:
    session = _pick_session()
    if session is None:
        return False
    with transaction.atomic():
        claimed = Job.objects.filter(uuid=job_uuid, status=JobStatus.PENDING).update(
            status=JobStatus.DISPATCHED, validator_hotkey=session.hotkey, dispatched_at=timezone.now()
        )
        if claimed != 1:
            return False
        job = Job.objects.get(uuid=job_uuid)
        job_record_event(job=job, status=JobStatus.DISPATCHED, detail=f"sent to validator {session.hotkey}")
        send_to_validator_on_commit(
            channel_name=session.channel_name, message=JobRequest(job_uuid=job.uuid, spec=job_spec(job))
        )
    return True


def jobs_dispatch_pending(*, limit: int = 500) -> int:
    return sum(job_dispatch(job_uuid=uuid) for uuid in jobs_pending_uuids(limit=limit))


def jobs_resend_to_validator(*, hotkey: str, channel_name: str) -> int:
    """After a validator reconnects: resend what it holds (it dedupes by uuid), and any cancel."""
    jobs = jobs_held_by_validator(hotkey=hotkey)
    count = 0
    with transaction.atomic():
        for job in jobs:
            send_to_validator_on_commit(
                channel_name=channel_name, message=JobRequest(job_uuid=job.uuid, spec=job_spec(job))
            )
            if job.cancel_requested_at is not None:
                send_to_validator_on_commit(channel_name=channel_name, message=JobCancelRequest(job_uuid=job.uuid))
            count += 1
    if count:
        logger.info("resent %d jobs to validator %s", count, hotkey)
    return count
