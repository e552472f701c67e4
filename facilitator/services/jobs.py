"""Creating jobs and recording their transitions."""

from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from facilitator.models import Job, JobStatusEvent
from facilitator.services.credits import credits_hold
from protocol.messages.common import JobSpec
from protocol.messages.jobs import JobStatus


class UnknownExecutorClass(Exception):
    pass


def job_create(*, user: User, spec: JobSpec, tag: str = "") -> Job:
    """Holds timeout × price credits and records the job as pending; dispatch happens on commit."""
    from executor.models import ExecutorClass
    from facilitator.services.dispatch import job_dispatch_on_commit

    executor_class = ExecutorClass.objects.filter(name=spec.executor_class, is_active=True).first()
    if executor_class is None:
        raise UnknownExecutorClass(spec.executor_class)
    price = Decimal(executor_class.price_per_second)
    hold = price * spec.timeout_s
    with transaction.atomic():
        credits_hold(user=user, amount=hold)
        job = Job.objects.create(
            user=user,
            image=spec.image,
            args=spec.args,
            env=spec.env,
            executor_class=spec.executor_class,
            timeout_s=spec.timeout_s,
            input=spec.input.model_dump() if spec.input else None,
            tag=tag,
            price_per_second=price,
            hold=hold,
        )
        job_record_event(job=job, status=JobStatus.PENDING, detail="submitted")
        job_dispatch_on_commit(job_uuid=job.uuid)
    return job


def job_record_event(*, job: Job, status: JobStatus, detail: str = "") -> JobStatusEvent:
    """Every transition is a row; whoever waits on the job hears of it once the row is committed."""
    from facilitator.notify import notify_job_watchers_on_commit

    # Postgres text cannot hold NUL; a validator relays whatever a container printed.
    event = JobStatusEvent.objects.create(job=job, status=status, detail=detail[:4000].replace("\x00", "\ufffd"))
    notify_job_watchers_on_commit(job_uuid=job.uuid, status=status)
    return event


def job_spec(job: Job) -> JobSpec:
    return JobSpec.model_validate(
        {
            "image": job.image,
            "args": job.args,
            "env": job.env,
            "executor_class": job.executor_class,
            "timeout_s": job.timeout_s,
            "input": job.input,
        }
    )
