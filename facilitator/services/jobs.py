"""Creating jobs: credits held, the job recorded as pending, dispatch once the row is committed."""

from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from executor.models import ExecutorClass
from executor.selectors import executor_class_get
from facilitator.models import Job
from facilitator.services.credits import credits_hold
from facilitator.services.dispatch import job_dispatch_on_commit
from facilitator.services.events import job_record_event
from protocol.messages.common import JobSpec
from protocol.messages.jobs import JobStatus


class UnknownExecutorClass(Exception):
    pass


def job_create(*, user: User, spec: JobSpec, tag: str = "") -> Job:
    """Holds timeout × price credits and records the job as pending; dispatch happens on commit.
    A spec with `rental` makes a rental: the whole duration is held the same way."""
    try:
        executor_class = executor_class_get(name=spec.executor_class)
    except ExecutorClass.DoesNotExist:
        raise UnknownExecutorClass(spec.executor_class) from None
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
            kind=Job.Kind.RENTAL if spec.rental else Job.Kind.JOB,
            ssh_public_key=spec.rental.ssh_public_key if spec.rental else "",
            price_per_second=price,
            hold=hold,
        )
        job_record_event(job=job, status=JobStatus.PENDING, detail="submitted")
        job_dispatch_on_commit(job_uuid=job.uuid)
    return job
