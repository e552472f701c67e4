"""factory_boy factories for the facilitator's models, and `facilitator_job` for a job made
through the real service (credits held)."""

from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory
from rest_framework.authtoken.models import Token

from facilitator.models import CreditAccount, CreditTransaction, Job, JobOutput, JobStatusEvent, ValidatorSession
from facilitator.services.jobs import job_create
from protocol.messages.jobs import JobStatus
from tests.factories import JOB_IMAGE, UserFactory, job_spec

FUNDED_CREDITS = Decimal(100)


class CreditAccountFactory(DjangoModelFactory[CreditAccount]):
    class Meta:
        model = CreditAccount

    user = factory.SubFactory(UserFactory)
    balance = FUNDED_CREDITS
    held = Decimal(0)


class JobFactory(DjangoModelFactory[Job]):
    """A row as it would be stored; no credits are held (use `facilitator_job` for that)."""

    class Meta:
        model = Job

    user = factory.SubFactory(UserFactory)
    status = JobStatus.PENDING
    image = JOB_IMAGE
    args = factory.LazyFunction(lambda: ["python3", "-c", "print(1)"])
    executor_class = "cpu.small"
    timeout_s = 600
    price_per_second = Decimal("0.001")
    hold = factory.LazyAttribute(lambda job: job.price_per_second * job.timeout_s)


class JobStatusEventFactory(DjangoModelFactory[JobStatusEvent]):
    class Meta:
        model = JobStatusEvent

    job = factory.SubFactory(JobFactory)
    status = factory.SelfAttribute("job.status")
    detail = ""


class JobOutputFactory(DjangoModelFactory[JobOutput]):
    class Meta:
        model = JobOutput

    job = factory.SubFactory(JobFactory, status=JobStatus.COMPLETED)
    zip_bytes = b"PK\x05\x06" + b"\0" * 18  # an empty zip archive
    size = factory.LazyAttribute(lambda o: len(o.zip_bytes))


class CreditTransactionFactory(DjangoModelFactory[CreditTransaction]):
    class Meta:
        model = CreditTransaction

    account = factory.SubFactory(CreditAccountFactory)
    kind = CreditTransaction.Kind.GRANT
    amount = Decimal(1)


class TokenFactory(DjangoModelFactory[Token]):
    """A REST API token (rest_framework.authtoken); its key is generated on save."""

    class Meta:
        model = Token

    user = factory.SubFactory(UserFactory)


class ValidatorSessionFactory(DjangoModelFactory[ValidatorSession]):
    class Meta:
        model = ValidatorSession

    hotkey = factory.Sequence(lambda n: f"5Validator{n:036d}")
    channel_name = factory.Sequence(lambda n: f"test-validator-channel-{n}")


def facilitator_job(*, user: Any, status: str = "dispatched", validator_hotkey: str = "5Validator", **spec: Any) -> Job:
    """A job created through the real service (credits held), then moved to `status` as if a
    validator had taken it."""
    job = job_create(user=user, spec=job_spec(**spec))
    if status != JobStatus.PENDING:
        Job.objects.filter(uuid=job.uuid).update(
            status=status, validator_hotkey=validator_hotkey, dispatched_at=timezone.now()
        )
    job.refresh_from_db()
    return job
